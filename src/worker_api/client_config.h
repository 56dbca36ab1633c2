#pragma once
// What an EngineClient or CloudClient needs besides the transport: where the
// service lives, the key, how long to wait, and how to be interrupted.

#include <atomic>
#include <chrono>
#include <string>

#include "worker_api/retry_policy.h"

namespace arcade::worker_api {

// Bounds for every call. A log stream uses `connect` only: it has no total
// limit (a dropped connection is noticed by the transport's TCP keepalive).
struct Timeouts {
    std::chrono::milliseconds connect{5000};
    std::chrono::milliseconds request{30000};
};

struct ClientConfig {
    std::string base_url;  // scheme://host[:port][/prefix], no trailing slash
    std::string api_key;
    Timeouts timeouts;
    // Items asked for per page; servers may return fewer.
    int page_size = 100;
    // When set and true, the call in flight is abandoned (ErrorKind::cancelled).
    const std::atomic<bool>* cancel = nullptr;
    // How idempotent calls (listings, enable/disable, opening a log stream)
    // are retried, each within `timeouts.request` from its first try.
    RetryPolicy retry;
};

}  // namespace arcade::worker_api
