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
#include "cloud/oauth.h"
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
    std::string host;  // the Cloud's; empty: ARCADE_CLOUD_URL or Arcade Cloud
    int port = 0;      // the Cloud's, when port_option was given
    CLI::Option* port_option = nullptr;
    bool debug = false;
    int callback_port = auth::kDefaultCallbackPort;
    int timeout_s = auth::kDefaultTimeoutSeconds;
};

// How long one request of the login's own protocol may take.
constexpr std::chrono::milliseconds kCloudCallTimeout{10000};

// Fails the login with `message`; with --debug, the cause underneath too
// (never a token: cloud::Failure messages hold none).
int login_failed(Context& ctx, const LoginOptions& opt, const std::string& message, const std::string& cause = {}) {
    if (opt.debug && !cause.empty()) ctx.err() << "Debug: " << terminal_safe(cause) << "\n";
    return ctx.fail(message);
}

// What the browser-facing part of a login ended with, for the terminal.
int report_wait(Context& ctx, const LoginOptions& opt, const CallbackWait& got) {
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
    using Outcome = CallbackVerdict::Outcome;
    switch (got.verdict.outcome) {
        case Outcome::denied:
            return ctx.fail("Login failed: Arcade Cloud refused the login: " + terminal_safe(got.verdict.error) +
                            ". Run `arcade login` again.");
        case Outcome::missing_fields:
            return ctx.fail("Login failed: Arcade Cloud's answer is missing " + got.verdict.missing +
                            ". Run `arcade login` again.");
        case Outcome::wrong_state:  // never judged: ignored while waiting
        case Outcome::not_callback:
        case Outcome::bad_method:
        case Outcome::ok:
            break;
    }
    return 0;
}

// Binds the callback port, or explains why not.
std::optional<CallbackServer> bind_callback(Context& ctx, int port) {
    int bind_error = 0;
    auto server = CallbackServer::bind_loopback(port, bind_error);
    if (server) return server;
    if (bind_error == EADDRINUSE)
        ctx.fail(fmt::format("Cannot receive the login: port {} on {} is already in use. "
                             "Stop what uses it, or pass --callback-port.",
                             port, auth::kLoopbackHost));
    else
        ctx.fail(fmt::format("Cannot receive the login on {}:{}: {}.", auth::kLoopbackHost, port,
                             std::strerror(bind_error)));
    return std::nullopt;
}

void announce(Context& ctx, const std::string& url) {
    ctx.out() << "Opening your browser to log in to Arcade Cloud.\n"
              << "If it does not open, copy this URL into a browser on this machine:\n\n  " << url << "\n\n"
              << "Waiting for the login to finish (Ctrl-C to cancel)...\n"
              << std::flush;
    open_browser(ctx.runtime(), url);
}

// The first-generation flow: the Cloud hands the API key to the callback.
int run_key_login(Context& ctx, const LoginOptions& opt, const std::string& cloud) {
    const auto creds_path = ctx.paths()->credentials();
    auto state = auth::random_state();
    if (!state) return ctx.fail("Login failed: the system has no randomness to secure the login with.");
    auto server = bind_callback(ctx, opt.callback_port);
    if (!server) return 1;
    announce(ctx, auth::login_url(cloud, auth::callback_uri(opt.callback_port), *state));

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
    if (int rc = report_wait(ctx, opt, got)) return rc;
    if (!saved) return ctx.fail(fmt::format("Login failed: could not write {}.", creds_path.string()));

    const Credentials& creds = got.verdict.credentials;
    ctx.out() << "Logged in as " << terminal_safe(creds.email) << ".\n" << std::flush;
    if (!got.verdict.warning.empty()) ctx.err() << "Warning: " << terminal_safe(got.verdict.warning) << "\n";
    link_identity(ctx, cloud, creds);
    return 0;
}

// Today's flow (OAuth 2.0 + PKCE, as the Python CLI 1.15's `arcade login`):
// the callback brings a code, redeemed with the verifier only this process
// knows, then whoami names the account and its default org and project.
int run_oauth_login(Context& ctx, const LoginOptions& opt, const std::string& cloud, const cloud::CliConfig& config) {
    const auto creds_path = ctx.paths()->credentials();
    auto state = auth::random_state();
    auto verifier = cloud::new_code_verifier();
    if (!state || !verifier) return ctx.fail("Login failed: the system has no randomness to secure the login with.");
    auto server = bind_callback(ctx, opt.callback_port);
    if (!server) return 1;
    const std::string redirect = auth::callback_uri(opt.callback_port);
    announce(ctx, cloud::authorization_url(config, redirect, *state, cloud::code_challenge(*verifier)));

    std::optional<Credentials> saved;
    std::string problem, cause;
    auto deadline = Clock::now() + std::chrono::seconds(opt.timeout_s);
    CallbackWait got = server->wait(
        *state, deadline, ctx.interrupted(),
        [&](CallbackVerdict& v) {
            // Finished before the browser is answered, so its page tells the truth.
            auto transport = ctx.runtime().make_transport();
            auto tokens = cloud::exchange_code(*transport, config, v.code, redirect, *verifier, kCloudCallTimeout,
                                               &ctx.interrupted());
            std::optional<cloud::WhoAmI> who;
            std::optional<LoginContext> context;
            if (!tokens) {
                problem = "Arcade Cloud did not accept the login's authorization code";
                cause = tokens.failure.message;
            } else if (auto asked = cloud::fetch_whoami(*transport, cloud, tokens.value->access_token,
                                                        kCloudCallTimeout, &ctx.interrupted());
                       !asked) {
                problem = "could not ask Arcade Cloud who logged in";
                cause = asked.failure.message;
            } else if (who = std::move(asked.value); !usable_credential_text(who->email)) {
                problem = "Arcade Cloud's answer has no usable e-mail address";
            } else if (context = cloud::default_context(*who, problem); context) {
                Credentials creds;
                creds.email = who->email;
                creds.oauth = OAuthLogin{cloud, tokens.value->access_token, tokens.value->refresh_token,
                                         cloud::expires_at_after(ctx.runtime().clock.now_ms(),
                                                                 tokens.value->expires_in),
                                         context};
                if (ensure_private_dir(ctx.paths()->dir) && save_credentials(creds_path, creds)) saved = creds;
                else problem = fmt::format("could not write {}", creds_path.string());
            }
            if (!saved)
                return std::pair(500, html_page("Login failed", "The Arcade CLI could not finish the login: " +
                                                                    auth::html_escape(problem) +
                                                                    ". See your terminal."));
            return std::pair(200, html_page("Login successful", "You are logged in to the Arcade CLI as <b>" +
                                                                    auth::html_escape(saved->email) +
                                                                    "</b>. You can close this window and return "
                                                                    "to your terminal."));
        },
        auth::Flow::oauth);
    server.reset();  // one-shot: stop listening before anything slow happens
    if (int rc = report_wait(ctx, opt, got)) return rc;
    if (!saved && ctx.interrupted()) return ctx.fail("Login cancelled.", exit_code::kInterrupted);
    if (!saved) return login_failed(ctx, opt, "Login failed: " + terminal_safe(problem) + ".", cause);

    ctx.out() << "Logged in as " << terminal_safe(saved->email) << ".\n";
    if (saved->oauth->context)
        ctx.out() << "Active project: " << terminal_safe(saved->oauth->context->org_name) << " / "
                  << terminal_safe(saved->oauth->context->project_name) << "\n";
    ctx.out() << std::flush;
    link_identity(ctx, cloud, *saved);
    return 0;
}

int run_login(Context& ctx, const LoginOptions& opt) {
    if (!ctx.paths())
        return ctx.fail("Cannot tell where to keep credentials: set HOME or ARCADE_WORK_DIR.");
    // Never destroy a login, of either format: the Python CLI shares it.
    if (auto existing = load_credentials(ctx.paths()->credentials())) {
        if (existing->email.empty()) ctx.out() << "Already logged in. Run `arcade logout` first.\n";
        else ctx.out() << "Already logged in as " << terminal_safe(existing->email) << ". Run `arcade logout` first.\n";
        return 0;
    }
    if (opt.callback_port < 1 || opt.callback_port > 65535)
        return ctx.fail(fmt::format("Invalid --callback-port {}: use 1 to 65535.", opt.callback_port));
    if (opt.timeout_s < 1) return ctx.fail(fmt::format("Invalid --timeout {}: use a number of seconds above 0.", opt.timeout_s));
    const bool port_given = opt.port_option && opt.port_option->count() > 0;
    EndpointRequest asked;
    asked.host = opt.host.empty() ? configured_host(Service::cloud, ctx.env()) : opt.host;
    if (port_given) asked.port = opt.port;
    const std::string cloud = opt.host.empty() && !port_given ? ctx.runtime().endpoints.cloud
                                                               : resolve_endpoint(Service::cloud, asked).value_or("");
    if (cloud.empty()) return ctx.fail(fmt::format("Invalid Arcade Cloud host: '{}'", terminal_safe(asked.host)));

    auto transport = ctx.runtime().make_transport();
    auto config = cloud::fetch_cli_config(*transport, cloud, kCloudCallTimeout, &ctx.interrupted());
    if (ctx.interrupted()) return ctx.fail("Login cancelled.", exit_code::kInterrupted);
    if (config) return run_oauth_login(ctx, opt, cloud, *config.value);
    // A Cloud that does not serve discovery speaks only the first generation.
    if (config.failure.kind == cloud::Failure::Kind::not_served) return run_key_login(ctx, opt, cloud);
    return login_failed(ctx, opt, fmt::format("Login failed: could not connect to Arcade at {}.", terminal_safe(cloud)),
                        config.failure.message);
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
    // -h is the Cloud's host, as in the original; help stays on --help.
    login->set_help_flag("--help", "Print this help message and exit");
    login->add_option("-h,--host", opt->host,
                      "Arcade Cloud host or URL (default: $ARCADE_CLOUD_URL or cloud.arcade.dev)");
    opt->port_option = login->add_option("-p,--port", opt->port, "Arcade Cloud port (localhost: 8000)")
                           ->check(CLI::Range(1, 65535));
    login->add_flag("-d,--debug", opt->debug, "Show debug information");
    login->add_option("--callback-port", opt->callback_port, "Local port for the browser's callback")
        ->default_val(auth::kDefaultCallbackPort);
    login->add_option("--timeout", opt->timeout_s, "Seconds to wait for the browser")
        ->default_val(auth::kDefaultTimeoutSeconds);
    table.add(login, [opt](Context& ctx) { return run_login(ctx, *opt); });

    auto* logout = root.add_subcommand("logout", "Remove this machine's Arcade Cloud credentials");
    table.add(logout, [](Context& ctx) { return run_logout(ctx); });
}

}  // namespace arcade::cli
