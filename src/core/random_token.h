#pragma once
// Unguessable values for a login (its state, PKCE's code verifier): bytes
// from the kernel, never a weaker fallback.

#include <cstddef>
#include <optional>
#include <string>

namespace arcade {

// `n` bytes from the kernel (getrandom) as unpadded base64url; nullopt only
// when the system has no randomness.
std::optional<std::string> random_urlsafe(std::size_t n);

}  // namespace arcade
