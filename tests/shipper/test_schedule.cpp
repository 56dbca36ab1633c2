#include <catch2/catch.hpp>

#include "core/time_format.h"
#include "shipper/schedule.h"

using namespace arcade;
using namespace arcade::shipper;

namespace {
http::Response status(int code) {
    http::Response r;
    r.status = code;
    return r;
}
}  // namespace

TEST_CASE("responses are classified as PostHog's contract says", "[shipper]") {
    auto [code, verdict] = GENERATE(table<int, Verdict>({
        {200, Verdict::delivered}, {204, Verdict::delivered}, {400, Verdict::split}, {413, Verdict::split},
        {401, Verdict::refused},   {403, Verdict::refused},   {404, Verdict::refused}, {408, Verdict::retry},
        {429, Verdict::retry},     {500, Verdict::retry},     {502, Verdict::retry},   {503, Verdict::retry},
        {504, Verdict::retry},
    }));
    CHECK(classify(status(code)) == verdict);
}

TEST_CASE("a network failure is retried", "[shipper]") {
    http::Response r;
    r.failure = http::Failure::reset;
    CHECK(classify(r) == Verdict::retry);
}

TEST_CASE("retry delays start at 100 ms, double, and respect Retry-After as a floor", "[shipper]") {
    RetryPolicy p;
    CHECK(p.max_retries == 3);
    CHECK(p.next_delay(1, std::nullopt) == 100);
    CHECK(p.next_delay(2, std::nullopt) == 200);
    CHECK(p.next_delay(3, std::nullopt) == 400);
    CHECK(p.next_delay(1, 3000) == 3000);
    CHECK(p.next_delay(3, 50) == 400);
}

TEST_CASE("Retry-After is read as seconds or an HTTP date", "[shipper]") {
    std::int64_t now = *parse_http_date("Fri, 27 Nov 2026 12:00:00 GMT");
    CHECK(parse_retry_after("3", now) == 3000);
    CHECK(parse_retry_after(" 0 ", now) == 0);
    CHECK(parse_retry_after("Fri, 27 Nov 2026 12:00:05 GMT", now) == 5000);
    CHECK(parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0);
    CHECK(parse_retry_after("99999999999999", now) == 24LL * 3600 * 1000);
    CHECK_FALSE(parse_retry_after("soon", now));
    CHECK_FALSE(parse_retry_after("", now));
    CHECK_FALSE(parse_retry_after("-3", now));
}

TEST_CASE("the next run after n failures waits min(30 s * 2^(n-1), 15 min)", "[shipper]") {
    auto [failures, ms] = GENERATE(table<int, std::int64_t>({{0, 0},
                                                             {1, 30'000},
                                                             {2, 60'000},
                                                             {3, 120'000},
                                                             {5, 480'000},
                                                             {6, 900'000},
                                                             {7, 900'000},
                                                             {60, 900'000}}));
    CHECK(next_run_delay_ms(failures) == ms);
}

TEST_CASE("time formats round-trip and convert offsets to UTC", "[shipper]") {
    CHECK(rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(parse_rfc3339("2026-11-27T12:40:30.123Z") == 1795783230123);
    CHECK(parse_rfc3339("2026-11-27T13:40:30.123+01:00") == 1795783230123);
    CHECK(parse_rfc3339("2026-11-27T07:40:30.123-0500") == 1795783230123);
    CHECK(rfc3339_ms(*parse_rfc3339("2026-11-27T12:40:30.1Z")) == "2026-11-27T12:40:30.100Z");
    CHECK_FALSE(parse_rfc3339("2026-11-27T12:40:30"));
    CHECK_FALSE(parse_rfc3339("yesterday"));
}
