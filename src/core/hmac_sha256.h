#pragma once
// HMAC-SHA-256 (RFC 2104) over core/sha256.h: the keyed fingerprint of a login
// that the journal keeps instead of the login's secret (SPEC §4). Pure;
// thread-safe.

#include <string>
#include <string_view>

#include "core/sha256.h"

namespace arcade {

// HMAC-SHA-256 of `message` under `key` (any length).
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
// Lower-case hex of a digest (64 characters).
std::string to_hex(const Sha256Digest& digest);

}  // namespace arcade
