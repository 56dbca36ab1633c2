#pragma once
// The PostHog wire form of one journal row (POSTHOG.md "Event"): the exact
// JSON object sent in a /batch/ request and printed in debug mode. It is a
// pure function of the row, so a retry sends the same bytes.

#include <string>

#include "store/journal.h"

namespace arcade::shipper {

// {"event", "distinct_id", "uuid", "timestamp", "properties"}; the properties
// gain `"$process_person_profile": false` exactly when the row is an
// anonymous event (its distinct id is the anonymous id it was recorded under).
std::string encode_event(const store::StoredEvent& row);
// The same by parsing and re-serialising the properties (the reference form
// encode_event's fast path must match byte for byte).
std::string encode_event_parsed(const store::StoredEvent& row);

// Why PostHog would refuse this row (empty event name or distinct id,
// invalid uuid, properties not an object, encoded size over 900 KiB), or ""
// when it is fine to send.
std::string rejection_reason(const store::StoredEvent& row, std::size_t encoded_size);

inline constexpr std::size_t kMaxEventBytes = 900 * 1024;

}  // namespace arcade::shipper
