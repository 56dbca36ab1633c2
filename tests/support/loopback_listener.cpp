#include "support/loopback_listener.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

namespace arcade::testing {
namespace {
constexpr const char* kLoopback = "127.0.0.1";
}  // namespace

LoopbackListener::~LoopbackListener() {
    try {
        stop();
    } catch (...) {
        // Destructors never throw; a failed join leaves nothing to clean up.
    }
}

int LoopbackListener::start(int port, const std::string& who, const std::function<void()>& on_thread) {
    std::lock_guard lifecycle(lifecycle_);
    if (thread_.joinable() || listen_returned_) throw std::logic_error(who + " starts only once");
    const int bound =
        port == 0 ? server_.bind_to_any_port(kLoopback) : (server_.bind_to_port(kLoopback, port) ? port : -1);
    if (bound <= 0) throw std::runtime_error(who + " cannot bind " + kLoopback + ":" + std::to_string(port));
    port_ = bound;
    thread_ = std::thread([this, on_thread] {
        if (on_thread) on_thread();
        server_.listen_after_bind();
        listen_returned_ = true;
    });
    // httplib's stop() does nothing until the accept loop runs, so a stop()
    // straight after start() would leave the thread serving forever.
    while (!server_.is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (listen_returned_) {
        thread_.join();
        throw std::runtime_error(who + " failed to serve on " + url());
    }
    return bound;
}

void LoopbackListener::stop(const std::function<void()>& before) {
    std::lock_guard lifecycle(lifecycle_);
    if (!thread_.joinable()) return;
    if (before) before();
    server_.stop();
    thread_.join();
}

std::string LoopbackListener::url() const { return std::string("http://") + kLoopback + ":" + std::to_string(port_.load()); }

}  // namespace arcade::testing
