#pragma once
// Wire and display formats for instants: RFC 3339 UTC with milliseconds
// (`2026-11-27T12:40:30.123Z`) and HTTP dates (for `Retry-After`).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arcade {

// `unix_ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string rfc3339_ms(std::int64_t unix_ms);
// Parses RFC 3339 / ISO 8601 with any offset (`Z`, `+hh:mm`, `-hhmm`) and
// optional fraction; nullopt when malformed.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);
// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); nullopt otherwise.
std::optional<std::int64_t> parse_http_date(std::string_view text);
// A short human age: `4s`, `3m`, `2h`, `5d`.
std::string human_age(std::int64_t ms);

}  // namespace arcade
