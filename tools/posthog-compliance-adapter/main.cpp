// posthog-compliance-adapter: serves the PostHog SDK compliance adapter
// interface on 127.0.0.1 until SIGINT/SIGTERM, so PostHog's SDK test harness
// can drive arcade's journal and shipper. Behaviour: adapter.h and README.md.

#include <signal.h>

#include <iostream>
#include <string>

#include "common/loopback_tool.h"
#include "posthog-compliance-adapter/adapter.h"

namespace {

constexpr const char* kUsage =
    "usage: posthog-compliance-adapter [--port N]\n"
    "  --port N   port on 127.0.0.1 (default 8080; 0 picks a free port)\n";

struct Options {
    int port = 8080;  // the port PostHog's harness expects an adapter on
    bool help = false;
};

// Throws std::invalid_argument.
Options parse_args(int argc, char** argv) {
    Options options;
    auto given = arcade::tools::parse_long_options(argc, argv, {"--port"}, options.help);
    if (given.count("--port")) options.port = arcade::tools::parse_port(given["--port"]);
    return options;
}

int run(const Options& options) {
    arcade::tools::StopSignals stop_signals;  // before the server's threads start
    // A harness that hangs up mid-answer must not kill the process.
    signal(SIGPIPE, SIG_IGN);

    arcade::compliance::AdapterServer server;
    server.start(options.port);
    std::cout << "listening on " << server.url() << std::endl;

    stop_signals.wait();
    server.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return arcade::tools::main_guard("posthog-compliance-adapter", kUsage, [&] {
        const Options options = parse_args(argc, argv);
        if (options.help) {
            std::cout << kUsage;
            return 0;
        }
        return run(options);
    });
}
