#pragma once
// Whether usage tracking is on and why (SPEC §2): the one function every
// command, the shipper and `usage status` ask, so the rules are checked in
// one order and each reason is worded once. Pure: the caller brings what it
// learned from the config dir and the journal.

#include <optional>
#include <string>
#include <string_view>

#include "core/environ.h"

namespace arcade::shipper {

// Why tracking is on or off, in the order the rules are checked.
enum class TrackingReason {
    enabled,
    env_opt_out,       // ARCADE_USAGE_TRACKING=false/0/no/off
    do_not_track,      // DO_NOT_TRACK set to anything but 0
    no_project_key,    // a build without a key, and no ARCADE_USAGE_POSTHOG_KEY
    no_config_dir,     // no HOME and no ARCADE_WORK_DIR, or the dir cannot be made
    journal_unusable,  // the journal cannot be opened (the problem is in `detail`)
    user_disabled,     // `arcade usage disable`
};

// What the journal said, once the caller has opened it.
struct JournalFacts {
    std::string problem;  // non-empty when it could not be opened or read
    bool user_disabled = false;
};

struct Tracking {
    bool enabled = false;
    TrackingReason why = TrackingReason::enabled;
    bool debug = false;        // ARCADE_USAGE_DEBUG=1: print events, record and send nothing
    std::string reason;        // `why` in words, for `usage status` and debug output
    std::string posthog_key;   // ARCADE_USAGE_POSTHOG_KEY or the build's key
};

// The decision from the environment and the build alone, then (when given)
// the config dir and the journal. Callers ask once before touching the disk
// and again with what they found. `config_dir_problem`, when the caller
// knows why the config dir is unusable, is the reason shown instead of the
// generic one (and turns tracking off by itself).
Tracking decide_tracking(const Environ& env, std::optional<bool> have_config_dir = std::nullopt,
                         const std::optional<JournalFacts>& journal = std::nullopt,
                         std::string_view config_dir_problem = {});

// True for ARCADE_USAGE_TRACKING values that turn tracking off:
// false/0/no/off, any case, surrounding space ignored.
bool is_false_value(std::string_view value);

}  // namespace arcade::shipper
