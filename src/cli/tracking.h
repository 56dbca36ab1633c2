#pragma once
// The tracking wrapper: decides whether usage tracking is on (SPEC §2),
// builds the usage event of an invocation (SPEC §3), resolves its distinct id
// locally (SPEC §4, never the network), appends it to the journal and starts
// the shipper when useful. Telemetry never changes a command's exit status or
// output: every failure here is swallowed (shown only in debug mode).

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/credentials.h"
#include "core/environ.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "shipper/tracking_config.h"
#include "store/journal.h"

namespace arcade::cli {

struct Invocation {
    std::string command_name;  // dotted path as typed: "usage.status", "server.list", "worker.list"
    int exit_code = 0;
    // Logout (SPEC §4): the event goes out as the login it removed, then the
    // identity is rotated when linked or when a credentials file was removed.
    bool logout = false;
    bool removed_credentials = false;
    std::optional<store::LoginOverride> removed_login;  // the login it removed; nullopt: none usable
    std::string error_message;  // raw; scrubbed when the event is built
    MonotonicTime start;
    MonotonicTime end;
};

// PostHog's `$os` and `$os_version` for a machine whose uname sysname is
// `sysname`, as its server SDKs name them ("Linux" and the distribution's
// VERSION_ID; "Mac OS X").
struct OsName {
    std::string name;
    std::string version;  // "" when unknown
};
OsName os_name(std::string_view sysname);

// The properties object of the usage event (without $process_person_profile,
// which is decided at send time). `who`, when given, adds the login's
// org_id and project_id.
std::string build_properties(const Invocation& inv, const Environ& env,
                             const store::CurrentIdentity* who = nullptr);

// How the next event would be attributed (SPEC §4 rules 1-3).
struct Attribution {
    std::string distinct_id;
    bool needs_identity = false;
};
Attribution attribute(const store::Identity& id, const std::optional<ConfigPaths>& paths);

// The journal, opened for writing, when tracking is on by every rule
// (environment, build key, `usage disable`, not debug mode); nullptr
// otherwise or when it cannot be opened. Commands that journal identity
// transitions (login) use it. Never throws.
std::unique_ptr<store::Journal> open_tracking_journal(const Runtime& runtime, const std::optional<ConfigPaths>& paths);

// After `arcade login` saved `creds`: looks the principal up at `cloud_url`
// (2 s) and journals `linked` + the alias before login's own event, the
// rotate-first rule checked inside the journal's transaction (SPEC §4).
// Nothing when tracking is off; every failure is swallowed (the shipper
// links later). Never throws.
void link_after_login(const Runtime& runtime, const std::optional<ConfigPaths>& paths, const std::string& cloud_url,
                      const Credentials& creds) noexcept;

// Records `inv`: appends to the journal (or prints it in debug mode), shows
// the first-run notice, spawns the shipper. Never throws.
void record_invocation(const Invocation& inv, const Runtime& runtime, const std::optional<ConfigPaths>& paths,
                       std::ostream& err);

// The first-run privacy notice.
extern const char* const kPrivacyNotice;

}  // namespace arcade::cli
