#include "shipper/tracking_config.h"

#include <algorithm>
#include <cctype>

#include "core/build_info.h"

namespace arcade::shipper {

bool is_false_value(std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    std::string low(v);
    std::transform(low.begin(), low.end(), low.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return low == "false" || low == "0" || low == "no" || low == "off";
}

Tracking decide_tracking(const Environ& env, std::optional<bool> have_config_dir,
                         const std::optional<JournalFacts>& journal, std::string_view config_dir_problem) {
    Tracking t;
    t.posthog_key = env.get_or("ARCADE_USAGE_POSTHOG_KEY", build::kPostHogProjectKey);
    t.debug = env.get("ARCADE_USAGE_DEBUG").value_or("") == "1";
    auto off = [&](TrackingReason why, std::string reason) {
        t.enabled = false;
        t.why = why;
        t.reason = std::move(reason);
        return t;
    };
    if (auto v = env.get("ARCADE_USAGE_TRACKING"); v && is_false_value(*v))
        return off(TrackingReason::env_opt_out, "disabled by ARCADE_USAGE_TRACKING=" + *v);
    if (auto v = env.get("DO_NOT_TRACK"); v && !v->empty() && *v != "0")
        return off(TrackingReason::do_not_track, "disabled by DO_NOT_TRACK");
    if (t.posthog_key.empty())
        return off(TrackingReason::no_project_key,
                   "no PostHog project key in this build (set ARCADE_USAGE_POSTHOG_KEY to enable)");
    if (!config_dir_problem.empty()) return off(TrackingReason::no_config_dir, std::string(config_dir_problem));
    if (have_config_dir && !*have_config_dir)
        return off(TrackingReason::no_config_dir, "no usable config directory (set HOME or ARCADE_WORK_DIR)");
    if (journal && !journal->problem.empty()) return off(TrackingReason::journal_unusable, journal->problem);
    if (journal && journal->user_disabled) return off(TrackingReason::user_disabled, "disabled by `arcade usage disable`");
    t.enabled = true;
    t.why = TrackingReason::enabled;
    t.reason = t.debug ? "enabled, in debug mode (ARCADE_USAGE_DEBUG=1): events are printed, not recorded or sent"
                       : "enabled";
    return t;
}

}  // namespace arcade::shipper
