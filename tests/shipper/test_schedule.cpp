#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>

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

using namespace std::chrono_literals;

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
    CHECK(p.next_delay(1, std::nullopt) == 100ms);
    CHECK(p.next_delay(2, std::nullopt) == 200ms);
    CHECK(p.next_delay(3, std::nullopt) == 400ms);
    CHECK(p.next_delay(1, 3000ms) == 3000ms);
    CHECK(p.next_delay(3, 50ms) == 400ms);
}

TEST_CASE("Retry-After is read as seconds or an HTTP date", "[shipper]") {
    std::int64_t now = *parse_http_date("Fri, 27 Nov 2026 12:00:00 GMT");
    CHECK(parse_retry_after("3", now) == 3000ms);
    CHECK(parse_retry_after(" 0 ", now) == 0ms);
    CHECK(parse_retry_after("Fri, 27 Nov 2026 12:00:05 GMT", now) == 5000ms);
    CHECK(parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0ms);
    CHECK(parse_retry_after("99999999999999", now) == 24h);
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
    CHECK(next_run_delay(failures) == std::chrono::milliseconds(ms));
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

TEST_CASE("rfc3339_ms agrees with gmtime_r across leap days, centuries and negative times", "[shipper]") {
    CHECK(rfc3339_ms(951782400000) == "2000-02-29T00:00:00.000Z");
    CHECK(rfc3339_ms(4107542399999) == "2100-02-28T23:59:59.999Z");
    CHECK(rfc3339_ms(4107542400000) == "2100-03-01T00:00:00.000Z");
    CHECK(rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
    // Every ~1.3 days from 1900 to 2200, plus odd milliseconds.
    for (std::int64_t ms = -2208988800000; ms < 7258118400000; ms += 113'777'777) {
        std::time_t t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char want[96];
        std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - std::int64_t{t} * 1000));
        REQUIRE(rfc3339_ms(ms) == want);
        REQUIRE(parse_rfc3339(want) == ms);
    }
}
