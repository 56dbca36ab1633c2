// arcade: the Arcade command-line tool. Everything lives in arcade_cli; this
// file only wires the process (signals, streams, environment) to run_app.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "cli/app.h"
#include "core/exit_codes.h"
#include "core/runtime.h"
#include "http/transport.h"

namespace {

std::atomic<bool> g_interrupted{false};

// The first Ctrl-C asks the running command to stop (it still records its
// event); a second one ends the process at once.
void on_sigint(int) {
    if (g_interrupted.exchange(true)) ::_exit(arcade::exit_code::kInterrupted);
}

}  // namespace

int main(int argc, char** argv) {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    auto env = arcade::Environ::from_process();
    bool out_tty = ::isatty(1) == 1;
    bool no_color = env.get("NO_COLOR").has_value() || env.get("TERM").value_or("") == "dumb";
    arcade::cli::Output io{std::cout, std::cerr, out_tty, ::isatty(0) == 1, out_tty && !no_color};
    const arcade::Runtime runtime = arcade::system_runtime(env, [] {
        return arcade::http::make_curl_transport();
    });
    int code = arcade::cli::run_app(argc, argv, io, runtime, g_interrupted);
    std::cout.flush();
    return code;
}
