#include "common/loopback_tool.h"

#include <pthread.h>

#include <charconv>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace arcade::tools {

std::map<std::string, std::string> parse_long_options(int argc, char** argv, const std::set<std::string>& known,
                                                      bool& help) {
    std::map<std::string, std::string> options;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            help = true;
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
        if (!known.count(name)) throw std::invalid_argument("unknown option " + name);
        options[name] = value;
    }
    return options;
}

int parse_port(const std::string& value) {
    int port = -1;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
    if (ec != std::errc{} || end != value.data() + value.size() || port < 0 || port > 65535)
        throw std::invalid_argument("bad port '" + value + "'");
    return port;
}

StopSignals::StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

void StopSignals::wait() {
    int signal_number = 0;
    sigwait(&set_, &signal_number);
}

int main_guard(const char* tool, const char* usage, const std::function<int()>& run) {
    try {
        return run();
    } catch (const std::invalid_argument& e) {
        std::cerr << tool << ": " << e.what() << '\n' << usage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << tool << ": " << e.what() << '\n';
        return 1;
    }
}

}  // namespace arcade::tools
