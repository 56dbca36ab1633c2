#include "worker_api/retry_policy.h"

#include <algorithm>
#include <cstdint>

#include "http/status.h"

namespace arcade::worker_api {

bool is_transient(const ApiError& error) {
    if (error.kind == ErrorKind::connection_lost) return true;
    return error.kind == ErrorKind::status && http::is_transient_status(error.status);
}

std::optional<std::chrono::milliseconds> RetryPolicy::delay_before(int retry, const ApiError& error,
                                                                   std::chrono::milliseconds left) const {
    if (retry < 1 || retry > max_retries || !is_transient(error)) return std::nullopt;
    const auto delay = std::min(first_delay * (std::int64_t{1} << std::min(retry - 1, 20)), max_delay);
    if (delay >= left) return std::nullopt;
    return delay;
}

}  // namespace arcade::worker_api
