#pragma once
// The stand-in for a service nobody answers: a port on 127.0.0.1 held by a
// bound socket that never listens, so connecting to it is refused and no
// other test picks it meanwhile (tests run in parallel).

#include <string>

namespace arcade::testing {

class ReservedPort {
public:
    // `shareable` sets SO_REUSEADDR, which lets a process that also sets it
    // (arcade's login callback server) bind and listen there; otherwise
    // nobody can (an unreachable service). Throws std::runtime_error when no
    // port can be had.
    explicit ReservedPort(bool shareable);
    ~ReservedPort();
    ReservedPort(const ReservedPort&) = delete;
    ReservedPort& operator=(const ReservedPort&) = delete;
    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    int port_ = 0;
};

}  // namespace arcade::testing
