#pragma once
// The drain loop: delivers pending journal rows to PostHog's /batch/ endpoint
// in journal order (SPEC §5), resolving rows that need an identity (SPEC §4)
// and holding every row that carries a principal until that principal's
// `$create_alias` has been acknowledged. The caller holds ship.lock.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/paths.h"
#include "http/transport.h"
#include "shipper/schedule.h"
#include "store/journal.h"

namespace arcade::shipper {

struct DrainProgress {
    std::int64_t delivered = 0;
    std::int64_t dead = 0;
    std::int64_t pending_at_start = 0;
};

struct DrainConfig {
    std::string posthog_host;  // base URL, no trailing slash needed
    std::string api_key;
    std::string cloud_url;                 // for identity lookups
    std::optional<ConfigPaths> paths;      // where credentials.yaml lives
    MonotonicTime deadline;                // stop sending after this Clock::monotonic()
    RetryPolicy retry;
    std::function<void(std::chrono::milliseconds)> sleep;  // defaults to a real sleep
    std::function<void(const DrainProgress&)> on_progress;  // after each delivered request
    // When set and true, the drain stops as soon as possible: no new request,
    // the one in flight abandoned, nothing counted as a failure.
    const std::atomic<bool>* cancel = nullptr;
};

struct DrainReport {
    std::int64_t delivered = 0;
    std::int64_t dead = 0;
    std::int64_t requests = 0;
    std::int64_t retries = 0;
    std::int64_t remaining = 0;       // rows still pending at the end
    bool failed = false;              // stopped by a delivery failure (backoff applies)
    bool out_of_time = false;         // stopped by the deadline with rows left to send
    bool cancelled = false;           // stopped because DrainConfig::cancel was set
    std::string error;                // the failure, for `usage status`
    std::int64_t final_scan_top = 0;  // rows above this seq arrived after the last scan
};

// Drains, then records the run in the journal's shipper settings (last
// attempt/success/error, failures and the next allowed run). Throws
// store::JournalError when the journal fails; never throws for the network.
DrainReport drain(store::Journal& journal, http::Transport& transport, const Clock& clock, const DrainConfig& config);

}  // namespace arcade::shipper
