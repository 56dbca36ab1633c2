// posthog-compliance-adapter: serves the PostHog SDK compliance adapter
// interface on 127.0.0.1 until SIGINT/SIGTERM, so PostHog's SDK test harness
// can drive arcade's journal and shipper. Behaviour: adapter.h and README.md.

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "posthog-compliance-adapter/adapter.h"

namespace {

constexpr const char* kUsage =
    "usage: posthog-compliance-adapter [--port N]\n"
    "  --port N   port on 127.0.0.1 (default 8080; 0 picks a free port)\n";

struct Options {
    int port = 8080;  // the port PostHog's harness expects an adapter on
    bool help = false;
};

// Reads "--port N" and "--port=N"; throws std::invalid_argument.
Options parse_args(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            options.help = true;
            continue;
        }
        std::string name(arg);
        std::string value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw std::invalid_argument("missing value for " + name);
        }
        if (name != "--port") throw std::invalid_argument("unknown option " + name);
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), options.port);
        if (ec != std::errc{} || end != value.data() + value.size() || options.port < 0 || options.port > 65535)
            throw std::invalid_argument("bad port '" + value + "'");
    }
    return options;
}

int run(const Options& options) {
    // Blocked before the server starts so that its threads inherit the mask
    // and only sigwait() below ever sees these signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // A harness that hangs up mid-answer must not kill the process.
    signal(SIGPIPE, SIG_IGN);

    arcade::compliance::AdapterServer server;
    server.start(options.port);
    std::cout << "listening on " << server.url() << std::endl;

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse_args(argc, argv);
        if (options.help) {
            std::cout << kUsage;
            return 0;
        }
        return run(options);
    } catch (const std::invalid_argument& e) {
        std::cerr << "posthog-compliance-adapter: " << e.what() << '\n' << kUsage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "posthog-compliance-adapter: " << e.what() << '\n';
        return 1;
    }
}
