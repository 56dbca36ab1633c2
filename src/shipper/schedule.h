#pragma once
// Retry and scheduling policy for the shipper (SPEC §5), as pure functions of
// (attempt, response, now) so they are tested without clocks or sleeps; plus
// the persisted cross-run backoff, kept in the journal's settings.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/transport.h"

namespace arcade::store {
class Journal;
}

namespace arcade::shipper {

// What to do with a /batch/ response.
enum class Verdict {
    delivered,  // 2xx: mark sent
    retry,      // 408, 429, 5xx, network error: retry within the run
    split,      // 400, 413: isolate the offending rows
    refused,    // 401, 403, other 4xx: keep everything pending, stop this run
};
Verdict classify(const http::Response& response);

struct RetryPolicy {
    int max_retries = 3;  // 3 retries = 4 attempts
    std::chrono::milliseconds first_delay{100};
    // The delay before retry number `retry` (1-based): 100 ms doubling,
    // never less than `retry_after` when the server asked for one.
    std::chrono::milliseconds next_delay(int retry, std::optional<std::chrono::milliseconds> retry_after) const;
};

// `Retry-After` (delta-seconds or HTTP date) as a delay from `now_ms`;
// nullopt when absent or unparsable. Clamped to [0, 1 day].
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::int64_t now_ms);

// Delay before the next run after `failures` consecutive failed runs:
// min(30 s · 2^(failures-1), 15 min).
std::chrono::milliseconds next_run_delay(int failures);

// True while a cross-run backoff forbids starting a shipper. Never throws
// (a journal error counts as "no backoff").
bool backoff_in_force(store::Journal& journal, std::int64_t now_ms);

}  // namespace arcade::shipper
