#pragma once
// When an idempotent call to the Arcade Engine or Cloud is tried again, and
// after how long. The original CLI's API client (arcadepy) retried twice,
// 0.5 s then 1 s (doubling, at most 8 s), after 408, 429, 5xx answers and
// broken connections; so do we, without its random jitter (one user's CLI
// does not stampede) and never past the call's time budget. Pure functions of
// (retry, error, time left): tested without clocks or sleeps.

#include <chrono>
#include <optional>

#include "worker_api/api_error.h"

namespace arcade::worker_api {

// Whether `error` may go away by itself: a 408, 429 or 5xx answer, or a
// connection lost mid-call. A refused connection (nothing listening) and a
// timeout (the budget is spent) are not.
bool is_transient(const ApiError& error);

struct RetryPolicy {
    int max_retries = 2;  // 2 retries = 3 attempts
    std::chrono::milliseconds first_delay{500};
    std::chrono::milliseconds max_delay{8000};

    // The wait before retry number `retry` (1-based) after `error`, when
    // `left` remains of the call's budget; nullopt when the error is not
    // transient, the retries are spent, or the wait would use up the budget.
    std::optional<std::chrono::milliseconds> delay_before(int retry, const ApiError& error,
                                                          std::chrono::milliseconds left) const;
};

}  // namespace arcade::worker_api
