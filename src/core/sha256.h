#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104). Used to keep a keyed
// fingerprint of a login in the journal (never the login's secret). Pure
// functions; thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace arcade {

using Sha256Digest = std::array<std::uint8_t, 32>;

// The SHA-256 digest of `data`.
Sha256Digest sha256(std::string_view data);
// HMAC-SHA-256 of `message` under `key` (any length).
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
// Lower-case hex of a digest (64 characters).
std::string to_hex(const Sha256Digest& digest);

}  // namespace arcade
