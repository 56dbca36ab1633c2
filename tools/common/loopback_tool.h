#pragma once
// What the loopback tools' mains share: long options, the port option,
// serving until SIGINT or SIGTERM, and mapping errors to exit codes. Each
// tool's main.cpp keeps only its usage text, its options and what it serves.

#include <signal.h>

#include <functional>
#include <map>
#include <set>
#include <string>

namespace arcade::tools {

// Reads "--name value" and "--name=value" for the names in `known`; "-h"
// and "--help" set `help`. Throws std::invalid_argument for an unknown name
// or a missing value.
std::map<std::string, std::string> parse_long_options(int argc, char** argv, const std::set<std::string>& known,
                                                      bool& help);

// A port number 0..65535; throws std::invalid_argument otherwise.
int parse_port(const std::string& value);

// Blocks SIGINT and SIGTERM for this thread and the threads it starts
// afterwards (construct it before starting a server), so that only wait()
// ever sees them.
class StopSignals {
public:
    StopSignals();
    // Returns once SIGINT or SIGTERM arrives.
    void wait();

private:
    sigset_t set_;
};

// Runs `run` with the tools' error handling: a usage error
// (std::invalid_argument) prints "<tool>: <message>" and `usage`, exit 2;
// anything else prints the message, exit 1.
int main_guard(const char* tool, const char* usage, const std::function<int()>& run);

}  // namespace arcade::tools
