#pragma once
// The /batch/ request body (POSTHOG.md "Request"): {"api_key", "batch",
// "sent_at"} gzip-compressed. Events arrive already encoded (event_wire.h),
// so a retry resends the same event bytes; only sent_at is re-stamped.

#include <string>
#include <vector>

namespace arcade::shipper {

inline constexpr std::size_t kMaxBatchEvents = 1000;
inline constexpr std::size_t kMaxBatchBytes = 5 * 1024 * 1024;

// The uncompressed JSON body.
std::string batch_body(const std::string& api_key, const std::vector<const std::string*>& events,
                       const std::string& sent_at);
// gzip (RFC 1952) of `data`; empty on failure.
std::string gzip(const std::string& data);

}  // namespace arcade::shipper
