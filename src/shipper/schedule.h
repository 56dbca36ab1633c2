#pragma once
// Retry and scheduling policy for the shipper (SPEC §5), as pure functions of
// (attempt, response, now) so they are tested without clocks or sleeps; plus
// the persisted cross-run backoff, kept in the journal's settings.

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
    std::int64_t first_delay_ms = 100;
    // The delay before retry number `retry` (1-based): 100 ms doubling,
    // never less than `retry_after_ms` when the server asked for one.
    std::int64_t next_delay(int retry, std::optional<std::int64_t> retry_after_ms) const;
};

// `Retry-After` as milliseconds from `now_ms` (delta-seconds or HTTP date);
// nullopt when absent or unparsable. Clamped to [0, 1 day].
std::optional<std::int64_t> parse_retry_after(std::string_view value, std::int64_t now_ms);

// Delay before the next run after `failures` consecutive failed runs:
// min(30 s · 2^(failures-1), 15 min).
std::int64_t next_run_delay_ms(int failures);

// True while a cross-run backoff forbids starting a shipper. Never throws
// (a journal error counts as "no backoff").
bool backoff_in_force(store::Journal& journal, std::int64_t now_ms);

}  // namespace arcade::shipper
