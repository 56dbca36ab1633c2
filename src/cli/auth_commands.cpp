#include "cli/auth_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <ostream>
#include <utility>

#include <fmt/format.h>

#include "cli/browser.h"
#include "cli/login_callback.h"
#include "cli/tracking.h"
#include "core/credentials.h"
#include "core/endpoints.h"
#include "core/exit_codes.h"
#include "core/files.h"
#include "core/terminal_text.h"
#include "http/transport.h"
#include "shipper/identity_link.h"
#include "store/journal.h"

namespace arcade::cli {

namespace {

using Clock = std::chrono::steady_clock;
using auth::CallbackServer;
using auth::CallbackVerdict;
using auth::CallbackWait;
using auth::html_page;

// ---------------------------------------------------------------------------
// Identity at login (SPEC §4)

// Links this machine's anonymous id to the principal behind `creds`, so
// the journal holds `linked` and the `$create_alias` row before login's own
// event (cli/tracking.h). A failed lookup leaves the link to the shipper.
void link_identity(Context& ctx, const std::string& cloud_url, const Credentials& creds) noexcept {
    link_after_login(ctx.runtime(), ctx.paths(), cloud_url, creds);
}

// ---------------------------------------------------------------------------
// The commands

struct LoginOptions {
    std::string host;  // empty: ARCADE_CLOUD_URL or Arcade Cloud
    int port = auth::kDefaultCallbackPort;
    std::string callback_host = "localhost";
    int timeout_s = auth::kDefaultTimeoutSeconds;
};

bool valid_callback_host(const std::string& host) {
    return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' || c == ']' ||
                      c == ':';
           });
}

int run_login(Context& ctx, const LoginOptions& opt) {
    if (!ctx.paths())
        return ctx.fail("Cannot tell where to keep credentials: set HOME or ARCADE_WORK_DIR.");
    const auto creds_path = ctx.paths()->credentials();
    if (auto existing = load_credentials(creds_path)) {
        if (existing->email.empty()) ctx.out() << "Already logged in.\n";
        else ctx.out() << "Already logged in as " << terminal_safe(existing->email) << ".\n";
        return 0;
    }
    if (opt.port < 1 || opt.port > 65535) return ctx.fail(fmt::format("Invalid --port {}: use 1 to 65535.", opt.port));
    if (opt.timeout_s < 1) return ctx.fail(fmt::format("Invalid --timeout {}: use a number of seconds above 0.", opt.timeout_s));
    if (!valid_callback_host(opt.callback_host))
        return ctx.fail(fmt::format("Invalid --callback-host '{}': use a host name or address.",
                                    terminal_safe(opt.callback_host)));
    EndpointRequest asked;
    asked.host = opt.host;
    const std::string cloud =
        opt.host.empty() ? ctx.runtime().endpoints.cloud : resolve_endpoint(Service::cloud, asked).value_or("");
    if (cloud.empty())
        return ctx.fail(fmt::format("Invalid Arcade Cloud host: '{}'",
                                    terminal_safe(opt.host.empty() ? configured_host(Service::cloud, ctx.env())
                                                                   : opt.host)));

    auto state = auth::random_state();
    if (!state) return ctx.fail("Login failed: the system has no randomness to secure the login with.");

    int bind_error = 0;
    auto server = CallbackServer::bind_loopback(opt.port, bind_error);
    if (!server) {
        if (bind_error == EADDRINUSE)
            return ctx.fail(fmt::format("Cannot receive the login: port {} on 127.0.0.1 is already in use. "
                                        "Stop what uses it, or pass --port.",
                                        opt.port));
        return ctx.fail(fmt::format("Cannot receive the login on 127.0.0.1:{}: {}.", opt.port,
                                    std::strerror(bind_error)));
    }

    const std::string url = auth::login_url(cloud, auth::callback_uri(opt.callback_host, opt.port), *state);
    ctx.out() << "Opening your browser to log in to Arcade Cloud.\n"
              << "If it does not open, copy this URL into a browser on this machine:\n\n  " << url << "\n\n"
              << "Waiting for the login to finish (Ctrl-C to cancel)...\n"
              << std::flush;
    open_browser(ctx.runtime(), url);

    bool saved = false;
    auto deadline = Clock::now() + std::chrono::seconds(opt.timeout_s);
    CallbackWait got = server->wait(*state, deadline, ctx.interrupted(), [&](CallbackVerdict& v) {
        // Saved before the browser is answered, so its page tells the truth.
        saved = ensure_private_dir(ctx.paths()->dir) && save_credentials(creds_path, v.credentials);
        if (!saved)
            return std::pair(500, html_page("Login failed", "The Arcade CLI could not save your credentials. "
                                                            "See your terminal."));
        std::string page = "You are logged in to the Arcade CLI as <b>" + auth::html_escape(v.credentials.email) +
                           "</b>. You can close this window and return to your terminal.";
        if (!v.warning.empty()) page += "</p>\n<p><b>Warning:</b> " + auth::html_escape(v.warning);
        return std::pair(200, html_page("Login successful", page));
    });
    server.reset();  // one-shot: stop listening before anything slow happens

    using Outcome = CallbackVerdict::Outcome;
    switch (got.status) {
        case CallbackWait::Status::timed_out:
            return ctx.fail(fmt::format("Login timed out after {} s without an answer from the browser. "
                                        "Run `arcade login` again.",
                                        opt.timeout_s));
        case CallbackWait::Status::interrupted:
            return ctx.fail("Login cancelled.", exit_code::kInterrupted);
        case CallbackWait::Status::failed:
            return ctx.fail("Login failed: the callback server stopped: " + got.error + ".");
        case CallbackWait::Status::judged:
            break;
    }
    switch (got.verdict.outcome) {
        case Outcome::wrong_state:
            return ctx.fail("Login failed: the browser's answer does not belong to this login (state mismatch). "
                            "Run `arcade login` again.");
        case Outcome::missing_fields:
            return ctx.fail("Login failed: Arcade Cloud's answer is missing " + got.verdict.missing +
                            ". Run `arcade login` again.");
        case Outcome::not_callback:
        case Outcome::bad_method:
        case Outcome::ok:
            break;
    }
    if (!saved) return ctx.fail(fmt::format("Login failed: could not write {}.", creds_path.string()));

    const Credentials& creds = got.verdict.credentials;
    ctx.out() << "Logged in as " << terminal_safe(creds.email) << ".\n" << std::flush;
    if (!got.verdict.warning.empty()) ctx.err() << "Warning: " << terminal_safe(got.verdict.warning) << "\n";
    link_identity(ctx, cloud, creds);
    return 0;
}

int run_logout(Context& ctx) {
    if (!ctx.paths()) {
        ctx.out() << "Not logged in.\n";
        return 0;
    }
    const auto path = ctx.paths()->credentials();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            // Still linked (credentials removed by hand): rotate anyway.
            ctx.logged_out(std::nullopt, false);
            ctx.out() << "Not logged in.\n";
            return 0;
        }
        return ctx.fail(fmt::format("Could not check {}: {}.", path.string(), std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode))
        return ctx.fail(fmt::format("{} is a directory, not a credentials file; remove it yourself.", path.string()));
    const auto removed = load_credentials(path);
    const bool had_credentials = removed.has_value();
    // unlink removes a symlink itself, never what it points to.
    if (::unlink(path.c_str()) != 0)
        return ctx.fail(fmt::format("Could not remove {}: {}.", path.string(), std::strerror(errno)));
    // Whatever was there is gone, so the next person on this machine must
    // not inherit this identity (it may be linked even if the file had
    // become unreadable since).
    ctx.logged_out(removed, true);
    if (had_credentials) ctx.out() << "Logged out.\n";
    else ctx.out() << "Not logged in (removed an unusable credentials file).\n";
    return 0;
}

}  // namespace

void setup_auth_commands(CLI::App& root, CommandTable& table) {
    auto opt = std::make_shared<LoginOptions>();
    auto* login = root.add_subcommand("login", "Log in to Arcade Cloud in your browser");
    login->add_option("--host", opt->host, "Arcade Cloud URL or host (default: $ARCADE_CLOUD_URL or cloud.arcade.dev)");
    login->add_option("--port", opt->port, "Local port for the browser's callback")
        ->default_val(auth::kDefaultCallbackPort);
    login->add_option("--callback-host", opt->callback_host, "Host name in the callback URL")
        ->default_val("localhost");
    login->add_option("--timeout", opt->timeout_s, "Seconds to wait for the browser")
        ->default_val(auth::kDefaultTimeoutSeconds);
    table.add(login, [opt](Context& ctx) { return run_login(ctx, *opt); });

    auto* logout = root.add_subcommand("logout", "Remove this machine's Arcade Cloud credentials");
    table.add(logout, [](Context& ctx) { return run_logout(ctx); });
}

}  // namespace arcade::cli
