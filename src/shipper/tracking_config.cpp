#include "shipper/tracking_config.h"

#include <algorithm>
#include <cctype>

#include "core/build_info.h"
#include "core/endpoints.h"

namespace arcade::shipper {

bool is_false_value(std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    std::string low(v);
    std::transform(low.begin(), low.end(), low.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return low == "false" || low == "0" || low == "no" || low == "off";
}

TrackingDecision decide_tracking(const Environ& env) {
    TrackingDecision d;
    const Endpoints endpoints = endpoints_from_env(env);
    d.posthog_host = endpoints.posthog;
    d.posthog_key = env.get_or("ARCADE_USAGE_POSTHOG_KEY", build::kPostHogProjectKey);
    d.cloud_url = endpoints.cloud;
    d.debug = env.get("ARCADE_USAGE_DEBUG").value_or("") == "1";
    if (auto v = env.get("ARCADE_USAGE_TRACKING"); v && is_false_value(*v)) {
        d.reason = "disabled by ARCADE_USAGE_TRACKING=" + *v;
        return d;
    }
    if (auto v = env.get("DO_NOT_TRACK"); v && !v->empty() && *v != "0") {
        d.reason = "disabled by DO_NOT_TRACK";
        return d;
    }
    if (d.posthog_key.empty()) {
        d.reason = "no PostHog project key in this build (set ARCADE_USAGE_POSTHOG_KEY to enable)";
        return d;
    }
    d.enabled = true;
    d.reason = "enabled";
    return d;
}

}  // namespace arcade::shipper
