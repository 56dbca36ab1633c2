#pragma once
// The test tree's one "arcade in a throwaway home": a fresh ARCADE_WORK_DIR
// (also HOME) with the environment every test starts from, the real
// binaries run in it (`arcade` from $ARCADE_BIN, set by CTest, and the
// `arcade-ship` beside it), and read-only access to what they recorded.
// Area harnesses (CLI status parsing, the login browser, reliability
// figures) build on it. Not thread-safe.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/journal.h"
#include "support/process.h"

namespace arcade::testing {

// The outcome of waiting for a home's shipper to be idle.
struct IdleWait {
    bool idle = false;
    std::chrono::milliseconds waited{0};
    explicit operator bool() const { return idle; }
};

// The one meaning of "the shipper is idle" in the tests: no process whose
// environment names `home` as ARCADE_WORK_DIR is alive (the CLI runs a test
// started and the detached shippers they spawned, a successor a shipper
// forked and one forked but not yet exec'd included; the fork copies the
// environment), and no process holds `home`/.arcade/ship.lock (a shipper
// run by other means). Both are read without disturbing anyone: the lock
// through the product's non-intrusive probe. A shipper that is only waiting
// for rows (it would otherwise hold the lock until its life ends) is asked
// to step aside (ShipLock::ask_holder_to_step_aside), which takes no lock.
// Waits at most `limit`; `idle` is false when it was still busy then.
IdleWait wait_shipper_idle(const std::filesystem::path& home,
                           std::chrono::milliseconds limit = std::chrono::milliseconds(12000));

class ArcadeHome {
public:
    // Tracking on, PostHog at `posthog_url` (a closed loopback port when
    // empty), Arcade Cloud and Engine on a closed loopback port.
    explicit ArcadeHome(const std::string& posthog_url = "");

    // The complete environment the binaries run with; tests add to it.
    std::map<std::string, std::string> env;

    // ARCADE_WORK_DIR, which is also HOME.
    const std::filesystem::path& path() const { return tmp_.path(); }
    // `path()/.arcade`: the journal, usage.json, credentials, ship.lock.
    std::filesystem::path config_dir() const { return tmp_.path() / ".arcade"; }
    std::filesystem::path credentials_path() const { return config_dir() / "credentials.yaml"; }

    // Points later runs (and the shippers they spawn) at `url`; "" = a closed port.
    void set_posthog(const std::string& url);
    // Writes credentials.yaml (0600, directory 0700) in the format `arcade login` writes.
    void write_credentials(const std::string& api_key, const std::string& email) const;

    // `arcade args…` with this environment; throws std::runtime_error if ARCADE_BIN is unset.
    ProcessSpec arcade_spec(const std::vector<std::string>& args) const;
    // Runs `arcade args…` to completion (at most `timeout`).
    ProcessResult run(const std::vector<std::string>& args, std::optional<std::string> stdin_data = std::nullopt,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) const;
    // Starts `arcade args…` in the background.
    std::unique_ptr<ChildProcess> start(const std::vector<std::string>& args) const;

    // Runs `procs` shells at once, each running `arcade args…` `runs` times
    // in a row and stopping at the first failure (exit 9); returns each
    // shell's exit status (-1 when a signal ended it).
    std::vector<int> run_concurrently(int procs, int runs, const std::vector<std::string>& args) const;

    // Runs arcade-ship in the foreground; how long it lived and how it ended.
    struct ShipperRun {
        std::chrono::milliseconds lived{0};
        int exit_code = -1;  // 128+N when killed by signal N
    };
    ShipperRun ship() const;

    // See the free function of the same name.
    IdleWait wait_shipper_idle(std::chrono::milliseconds limit = std::chrono::milliseconds(12000)) const {
        return testing::wait_shipper_idle(path(), limit);
    }

    // Appends `n` anonymous events {"command_name": tag, "n": i} straight to
    // the journal (faster than n CLI runs); returns their uuids in order.
    // Throws std::runtime_error when the journal cannot be opened.
    std::vector<std::string> queue_events(int n, const std::string& tag) const;

    // The journal as the binaries left it (opened read-only; throws if it cannot be).
    std::vector<store::StoredEvent> journal_events() const;
    std::vector<store::IdentityTransition> identity_history() const;
    std::optional<store::Identity> identity() const;

    // $ARCADE_BIN, and the arcade-ship beside it; throw std::runtime_error when unset.
    static std::string arcade_binary();
    static std::string shipper_binary();

private:
    TempDir tmp_;
};

}  // namespace arcade::testing
