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
    // The raw `Authorization` value for the Engine (an API key, or an OAuth
    // access token: the Python CLI's arcadepy sends either as is); the Cloud
    // and the Engine's log stream get `Bearer <it>`.
    std::string api_key;
    // Between `/v1` and the resource in every Engine path: empty for a key,
    // `/orgs/{org_id}/projects/{project_id}` (ids percent-encoded) for an
    // OAuth login, as the Python CLI 1.15 rewrites its paths.
    std::string engine_scope;
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
