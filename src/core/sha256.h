#pragma once
// SHA-256 (FIPS 180-4), for PKCE's S256 code challenge (RFC 7636). Not for
// secrets at rest: nothing here is keyed. Pure; thread-safe.

#include <array>
#include <cstdint>
#include <string_view>

namespace arcade {

using Sha256Digest = std::array<std::uint8_t, 32>;

// The SHA-256 digest of `data`.
Sha256Digest sha256(std::string_view data);

}  // namespace arcade
