#pragma once
// The bodies of the fuzz targets, one per surface that reads untrusted bytes.
// Each is shared by its libFuzzer entry point (fuzz_<name>.cpp, clang) and by
// the regression test that replays fuzz/regressions/<name>/* (g++), so a
// crashing input is checked against exactly the code that found it.
//
// A check drives the code under test with `input` and throws InvariantBroken
// when an invariant the code promises does not hold; memory errors are left
// to the sanitizers. Returning normally means the input is handled correctly.
// Checks are not thread-safe (the credentials check uses one file per process).

#include <stdexcept>
#include <string_view>

namespace arcade::fuzz {

// Thrown by a check when the code under test breaks its contract.
class InvariantBroken : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// usage.json: store::parse_identity_json, its round trip through
// format_identity_json, and store::is_refused_distinct_id.
void check_identity_json(std::string_view input);

// credentials.yaml: load_credentials on `input` written to a per-process temp
// file, and the save_credentials → load_credentials round trip.
void check_credentials(std::string_view input);

// worker_api::SseParser::feed: the first 4 bytes seed the chunk splits of the
// rest; the events must not depend on how the stream was split.
void check_sse(std::string_view input);

// PostHog and Cloud responses: the first byte picks the HTTP status (or a
// transport failure), the rest is the body and the Retry-After value. Drives
// shipper::classify, parse_retry_after, RetryPolicy::next_delay,
// lookup_principal (through a fake transport), parse_rfc3339 and parse_http_date.
void check_posthog_response(std::string_view input);

// Arcade Engine and Cloud worker API responses: the first byte picks the
// status as for check_posthog_response, the rest is every response's body
// (and the log stream's bytes). Drives EngineClient and CloudClient through a
// fake transport; an ApiError's describe() has no control characters.
void check_worker_api_response(std::string_view input);

// cli::scrub_error_message and cli::valid_utf8: the first byte is the length
// of the home directory taken from the following bytes, the rest is the
// message up to its first NUL, then the current secrets, NUL-separated. The
// output is valid UTF-8 of at most 300 code points and holds none of the
// secrets (those the scrubber can promise, see promised_secret).
void check_scrub(std::string_view input);

// core/terminal_text: terminal_safe and terminal_safe_lines leave no
// terminal control and well-formed UTF-8, are idempotent, keep the line
// count and leave printable text alone.
void check_terminal_text(std::string_view input);

// The login callback: auth::parse_request_line, judge_callback, parse_query,
// percent_decode/percent_encode, terminal_safe, html_escape, constant_time_equal,
// and saving the credentials a successful callback carried.
void check_auth_callback(std::string_view input);

// One fuzz target: its name (the fuzz_<name> binary, corpus/<name>/ and
// regressions/<name>/) and its check.
struct Target {
    std::string_view name;
    void (*check)(std::string_view);
};

inline constexpr Target kTargets[] = {
    {"identity_json", check_identity_json},   {"credentials", check_credentials},
    {"sse", check_sse},                       {"posthog_response", check_posthog_response},
    {"worker_api_response", check_worker_api_response},
    {"scrub", check_scrub},                   {"auth_callback", check_auth_callback},
    {"terminal_text", check_terminal_text},
};

}  // namespace arcade::fuzz
