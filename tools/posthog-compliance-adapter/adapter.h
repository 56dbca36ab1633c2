#pragma once
// The PostHog SDK compliance adapter: the small HTTP interface through which
// PostHog's SDK test harness drives an SDK (/health, /init, /capture, /flush,
// /state, /reset), implemented over arcade's own journal and drain loop so the
// harness's capture suite exercises the code the CLI ships. The endpoints'
// JSON shapes, and where the adapter deliberately differs from a typical SDK
// (no timer-driven flushing, gzip always), are documented in README.md next
// to this file.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/transport.h"

namespace arcade::compliance {

// One endpoint's answer: an HTTP status and a JSON body.
struct Reply {
    int status = 200;
    std::string body;
};

struct AdapterOptions {
    // Where each /init makes its throwaway journal directory; empty means the
    // system temp dir.
    std::filesystem::path temp_root;
    // The transport a flush sends through; empty means libcurl. Called once
    // per /flush, and the transport is used from that flush's thread only.
    std::function<std::unique_ptr<http::Transport>()> make_transport;
    // How long one /flush may keep delivering and retrying before it reports
    // what it managed; a Retry-After that would overrun it ends the flush.
    std::chrono::milliseconds flush_budget{60'000};
};

// The adapter's state: the current session's configuration, its journal, the
// harness counters and the requests seen on the wire. Every method is
// thread-safe and never throws (failures become 4xx/5xx replies). flush()
// blocks while it delivers; reset(), init() and the destructor interrupt a
// flush in progress (a retry sleep or an in-flight request) and wait for it
// to stop, which takes well under a second.
class ComplianceAdapter {
public:
    explicit ComplianceAdapter(AdapterOptions options = {});
    ~ComplianceAdapter();
    ComplianceAdapter(const ComplianceAdapter&) = delete;
    ComplianceAdapter& operator=(const ComplianceAdapter&) = delete;

    // GET /health: which SDK this is and which harness suites apply.
    Reply health() const;
    // POST /init: drops any previous session and starts a fresh one with a
    // new, empty journal. 400 when the body is malformed.
    Reply init(std::string_view body);
    // POST /capture: appends one event to the journal; 400 when malformed or
    // before /init.
    Reply capture(std::string_view body);
    // POST /flush: delivers every pending event, blocking until all are
    // delivered or delivery failed permanently for this call.
    Reply flush();
    // GET /state: counters and the requests made so far in this session.
    Reply state();
    // POST /reset: stops a flush in progress, drops the session and its
    // journal; /init is needed again before /capture.
    Reply reset();
    // Stops a flush in progress and refuses every later call with 503; used
    // before the HTTP server shuts down so no handler stays blocked.
    void shut_down();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The adapter served over HTTP on 127.0.0.1 (cpp-httplib), on its own
// threads. Thread-safe; stop() and the destructor never throw.
class AdapterServer {
public:
    explicit AdapterServer(AdapterOptions options = {});
    ~AdapterServer();
    AdapterServer(const AdapterServer&) = delete;
    AdapterServer& operator=(const AdapterServer&) = delete;

    // Binds 127.0.0.1:`port` (0 picks a free port), serves in the background
    // and returns the port. Throws std::runtime_error when it cannot bind and
    // std::logic_error when started twice.
    int start(int port = 0);
    // "http://127.0.0.1:<port>"; meaningful after start().
    std::string url() const;
    // Interrupts any flush, stops serving and joins the server; idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace arcade::compliance
