#pragma once
// UUIDs for journal rows: version 7 (Unix-millisecond prefix, random rest), so
// they sort by creation time and PostHog accepts them.

#include <cstdint>
#include <string>
#include <string_view>

namespace arcade {

// A new UUIDv7 for `unix_ms`, lower-case canonical 8-4-4-4-12 form.
std::string uuid_v7(std::int64_t unix_ms);
// A new random UUIDv4 (used for anonymous ids, which carry no time).
std::string uuid_v4();
// True when `text` is a canonical 36-character UUID (any version, any case).
bool is_uuid(std::string_view text);

}  // namespace arcade
