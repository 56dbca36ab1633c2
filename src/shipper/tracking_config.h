#pragma once
// Whether usage tracking is on, as the environment and the build say (SPEC
// §2), and where events go. The persisted `arcade usage disable` lives in the
// journal and is checked by the callers that open it.

#include <string>
#include <string_view>

#include "core/environ.h"

namespace arcade::shipper {

struct TrackingDecision {
    bool enabled = false;
    bool debug = false;         // ARCADE_USAGE_DEBUG=1: print events, record and send nothing
    std::string reason;         // why tracking is off, or "enabled"
    std::string posthog_key;    // ARCADE_USAGE_POSTHOG_KEY or the build's key
    std::string posthog_host;   // ARCADE_USAGE_POSTHOG_HOST or PostHog US
    std::string cloud_url;      // ARCADE_CLOUD_URL or Arcade Cloud
};

TrackingDecision decide_tracking(const Environ& env);

// True for ARCADE_USAGE_TRACKING values that turn tracking off:
// false/0/no/off, any case, surrounding space ignored.
bool is_false_value(std::string_view value);

}  // namespace arcade::shipper
