#pragma once
// The one way the loopback servers (PostHog sink, fake Arcade services,
// compliance adapter) run their httplib::Server: bound to 127.0.0.1 and
// served from one background thread. start() and stop() are serialised;
// stop() is idempotent.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace arcade::testing {

class LoopbackListener {
public:
    // `server` must outlive this object (declare the listener after it).
    explicit LoopbackListener(httplib::Server& server) : server_(server) {}
    // Stops serving if still running; never throws.
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;

    // Binds 127.0.0.1:`port` (0 picks a free port) and serves in the
    // background, `on_thread` first running on the serving thread; returns
    // once the server accepts, with the port. Throws std::runtime_error
    // ("<who> cannot bind …") when it cannot bind or serve, and
    // std::logic_error when started twice.
    int start(int port, const std::string& who, const std::function<void()>& on_thread = {});
    // When serving: runs `before` (to wake handlers the join would wait
    // for), stops accepting and joins the serving thread.
    void stop(const std::function<void()>& before = {});

    int port() const { return port_.load(); }
    // "http://127.0.0.1:<port>"; meaningful after start().
    std::string url() const;

private:
    httplib::Server& server_;
    std::mutex lifecycle_;
    std::thread thread_;
    std::atomic<int> port_{0};
    std::atomic<bool> listen_returned_{false};
};

}  // namespace arcade::testing
