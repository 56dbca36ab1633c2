// The worker API's retry policy as a table: which errors are retried, how
// long each wait is, and that the budget and the retry count bound them.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

#include "worker_api/retry_policy.h"

using namespace arcade::worker_api;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

ApiError status(int code) {
    ApiError e;
    e.kind = ErrorKind::status;
    e.status = code;
    return e;
}

ApiError failure(ErrorKind kind) {
    ApiError e;
    e.kind = kind;
    return e;
}

}  // namespace

TEST_CASE("408, 429, 5xx and a lost connection are retried; nothing else is", "[worker_api]") {
    auto [error, transient] = GENERATE(table<ApiError, bool>({
        {status(408), true},
        {status(429), true},
        {status(500), true},
        {status(502), true},
        {status(503), true},
        {status(599), true},
        {status(400), false},
        {status(401), false},
        {status(403), false},
        {status(404), false},
        {status(409), false},
        {failure(ErrorKind::connection_lost), true},
        {failure(ErrorKind::connect), false},
        {failure(ErrorKind::timeout), false},
        {failure(ErrorKind::cancelled), false},
        {failure(ErrorKind::bad_response), false},
        {failure(ErrorKind::transport), false},
    }));
    INFO("kind " << static_cast<int>(error.kind) << " status " << error.status);
    CHECK(is_transient(error) == transient);
    CHECK(RetryPolicy{}.delay_before(1, error, 30s).has_value() == transient);
}

TEST_CASE("two retries, 0.5 s then 1 s, as the original's client waited", "[worker_api]") {
    RetryPolicy p;
    auto [retry, left, expected] = GENERATE(table<int, milliseconds, std::optional<milliseconds>>({
        {1, 30000ms, 500ms},
        {2, 30000ms, 1000ms},
        {3, 30000ms, std::nullopt},   // the retries are spent
        {0, 30000ms, std::nullopt},   // retries count from 1
        {1, 500ms, std::nullopt},     // the wait would use up the budget
        {2, 999ms, std::nullopt},
        {2, 1001ms, 1000ms},
    }));
    INFO("retry " << retry << ", " << left.count() << " ms left");
    CHECK(p.delay_before(retry, status(503), left) == expected);
}

TEST_CASE("the waits double up to the cap", "[worker_api]") {
    RetryPolicy p;
    p.max_retries = 30;
    CHECK(p.delay_before(4, status(500), 1h) == 4000ms);
    CHECK(p.delay_before(5, status(500), 1h) == 8000ms);
    CHECK(p.delay_before(30, status(500), 1h) == 8000ms);
}
