#pragma once
// End-to-end harness for login/logout and the identity lifecycle: one
// "machine" (arcade in a throwaway home, support/arcade_home.h) against a
// loopback PostHog sink and the fake Arcade Cloud. The browser is a script
// that records the login URL; the test then plays the browser over plain
// loopback HTTP. Every wait is bounded so a broken build fails instead of
// hanging.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/arcade_home.h"
#include "support/reserved_port.h"

namespace arcade::testing {

// One loopback HTTP exchange as a browser would see it (no redirects followed).
struct Page {
    int status = 0;  // 0 when no answer arrived
    std::string location;
    std::string body;
};

// GET `url` (http://host:port/path?query, host must resolve to loopback:
// `localhost` is sent to 127.0.0.1) with a bounded wait. Never throws.
Page http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// What one `arcade login` driven by the test-as-browser produced.
struct LoginRun {
    ProcessResult result;
    std::string login_url;  // what the CLI handed to $BROWSER ("" if nothing)
    Page cloud_page;        // the fake cloud's answer (a 302 to the callback)
    Page callback_page;     // the CLI's answer to the browser
};

class Machine : public ArcadeHome {
public:
    // Tracking on, PostHog at `posthog_url`, Arcade Cloud at `cloud_url`,
    // $BROWSER recording the URL into the work dir.
    Machine(const std::string& posthog_url, const std::string& cloud_url);
    // Lets a shipper the last command spawned finish before the work dir goes.
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    // Everything every command run through this object printed, for leak checks.
    const std::string& transcript() const { return transcript_; }

    // Runs `arcade args…` to completion (bounded), adding to the transcript.
    ProcessResult arcade(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Starts `arcade args…` in the background (for commands that must run
    // while the test acts, such as login waiting for its browser).
    std::unique_ptr<ChildProcess> start_arcade(const std::vector<std::string>& args);
    // Waits for the URL the CLI gave $BROWSER.
    std::optional<std::string> wait_for_browser_url(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    bool browser_was_opened() const;

    // `arcade login --port <free> --timeout 20 extra…`, with the test as the
    // browser: the login URL is fetched from the fake cloud and its redirect
    // followed to the CLI's callback.
    LoginRun login(const std::vector<std::string>& extra_args = {});

private:
    std::string transcript_;
    std::filesystem::path browser_url_file_;
};

// A headless Chromium as `machine`'s browser (SPEC's flags, a fresh profile
// in the machine's home): $BROWSER is a wrapper that runs it with
// --dump-dom on the URL arcade opens, under `timeout`. The destructor stops a
// Chromium still running.
class HeadlessChromium {
public:
    static constexpr const char* kPath = "/usr/bin/chromium";
    static bool installed();

    explicit HeadlessChromium(Machine& machine);
    ~HeadlessChromium();
    HeadlessChromium(const HeadlessChromium&) = delete;
    HeadlessChromium& operator=(const HeadlessChromium&) = delete;

    // What Chromium printed on stderr so far.
    std::string log() const;
    // The page Chromium ended on, once it wrote a whole document, or what it
    // had written when `timeout` passed.
    std::string wait_for_dom(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

private:
    std::filesystem::path dir_;
};

// The command_name of a journal row or sink event's properties (JSON text), or "".
std::string command_name_of(const std::string& properties_json);

// Whether `haystack` contains `needle`, for key-leak checks over binary files.
bool file_contains(const std::filesystem::path& path, const std::string& needle);

}  // namespace arcade::testing
