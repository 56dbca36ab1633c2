#include "cli/tracking.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ostream>
#include <string_view>

#include "cli/scrub.h"
#include "core/spawn.h"
#include "core/build_info.h"
#include "core/clock.h"
#include "core/credentials.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/time_format.h"
#include "core/uuid.h"
#include "shipper/event_wire.h"
#include "shipper/identity_link.h"
#include "shipper/schedule.h"
#include "store/set_aside.h"
#include "store/ship_lock.h"

namespace arcade::cli {

using shipper::decide_tracking;
using shipper::JournalFacts;
using shipper::Tracking;

const char* const kPrivacyNotice =
    "Arcade CLI collects anonymous usage data (command names, timings, errors) to improve the tool.\n"
    "See what is queued with `arcade usage status --events`. To opt out everywhere, set\n"
    "ARCADE_USAGE_TRACKING=0: it is the only setting that also stops the Python Arcade CLI and\n"
    "MCP servers built on Arcade's SDK. `arcade usage disable` and DO_NOT_TRACK=1 stop this CLI only.\n";

namespace {

// ~40 commands' worth of frames: the bigger the WAL, the more every command
// reads when it opens the journal; the smaller, the more often one of them
// pays a checkpoint's fsyncs while offline (docs/PERFORMANCE.md).
constexpr int kCliWalFrames = 200;

const char* runtime_version() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown";
#endif
}

// The value of `key` in an os-release file's text, unquoted; "" when absent.
std::string os_release_field(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=') {
            std::string_view value = line.substr(key.size() + 1);
            if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
    }
    return {};
}

}  // namespace

OsName os_name(std::string_view sys) {
    if (sys == "Darwin") return {"Mac OS X", ""};  // the version needs sysctl; PostHog leaves it out too when unknown
    if (sys != "Linux") return {std::string(sys), ""};
    // PostHog's Python SDK: `$os` "Linux", `$os_version` the distribution's
    // version (os-release VERSION_ID, via the `distro` package). Read once.
    static const std::string version = [] {
        for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
            auto read = read_file_nofollow(path, 64 * 1024);
            if (read.status == ReadStatus::ok) return os_release_field(read.data, "VERSION_ID");
        }
        return std::string();
    }();
    return {"Linux", version};
}

std::string build_properties(const Invocation& inv, const Environ& env, const store::CurrentIdentity* who) {
    utsname uts{};
    ::uname(&uts);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    JsonFields f(w);
    // Monotonic readings go out as seconds with millisecond precision.
    auto seconds = [](MonotonicTime t) {
        return static_cast<double>(std::chrono::round<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
               1000.0;
    };
    w.StartObject();
    f.str("command_name", valid_utf8(inv.command_name));
    f.str("cli_version", build::kVersion);
    f.str("runtime_language", "cpp");
    f.str("runtime_version", runtime_version());
    f.str("os_type", uts.sysname);
    f.str("os_release", uts.release);
    const OsName os = os_name(uts.sysname);
    f.str("$os", os.name);
    if (!os.version.empty()) f.str("$os_version", valid_utf8(os.version));
    if (who && !who->org_id.empty()) f.str("org_id", who->org_id);
    if (who && !who->project_id.empty()) f.str("project_id", who->project_id);
    f.integer("duration_ms",
              std::max<std::int64_t>(0, std::chrono::round<std::chrono::milliseconds>(inv.end - inv.start).count()));
    if (inv.exit_code != 0)
        f.str("error_message", scrub_error_message(inv.error_message, home_dir(env), current_secret_values(env)));
    f.number("device_start_timestamp", seconds(inv.start));
    f.number("device_end_timestamp", seconds(inv.end));
    f.str("$lib", build::kLibName);
    f.str("$lib_version", build::kVersion);
    f.boolean("$geoip_disable", true);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

Attribution attribute(const store::Identity& id, const std::optional<ConfigPaths>& paths) {
    if (id.principal_id) return {*id.principal_id, false};
    bool logged_in = paths && load_credentials(paths->credentials()).has_value();
    return {id.anon_id, logged_in};
}

namespace {

const char* event_name(const Invocation& inv) {
    return inv.exit_code == 0 ? "CLI execution succeeded" : "CLI execution failed";
}

// Debug mode: the event exactly as it would be sent, nothing recorded.
void print_debug_event(const Invocation& inv, const Runtime& runtime, const std::optional<ConfigPaths>& paths,
                       std::ostream& err) {
    const Environ& env = runtime.env;
    store::Identity id;
    if (paths) {
        if (auto open = store::Journal::open(*paths, runtime.clock, store::OpenMode::read_only, runtime.tricks);
            open.journal) {
            try {
                auto tracking = decide_tracking(env, true, JournalFacts{{}, open.journal->tracking_disabled()});
                if (!tracking.enabled) {
                    err << "arcade usage: tracking off: " << tracking.reason << "\n";
                    return;
                }
                if (auto current = open.journal->identity()) id = *current;
            } catch (const store::JournalError&) {
            }
        }
        if (id.anon_id.empty())
            if (auto file = store::read_identity_file(paths->usage_json())) id = *file;
    }
    if (id.anon_id.empty()) id.anon_id = uuid_v4();
    auto who = attribute(id, paths);
    store::StoredEvent row;
    row.created_ms = runtime.clock.now_ms();
    row.uuid = uuid_v7(row.created_ms);
    row.timestamp = rfc3339_ms(row.created_ms);
    row.kind = "event";
    row.event = event_name(inv);
    row.distinct_id = who.distinct_id;
    row.anon_id = id.anon_id;
    row.properties = build_properties(inv, env);
    err << shipper::encode_event(row) << "\n";
}

// The journal, open for writing, when every rule says tracking is on;
// otherwise nullptr, with the reason in `tracking`. Never throws.
// `lock_wait` bounds every wait for another process's lock; `busy` tells
// when the journal could not be opened because one held it that long.
std::unique_ptr<store::Journal> open_when_tracking(const Runtime& runtime, const std::optional<ConfigPaths>& paths,
                                                   Tracking& tracking,
                                                   std::chrono::milliseconds lock_wait = store::kLockWait,
                                                   bool* busy = nullptr) {
    const Environ& env = runtime.env;
    tracking = decide_tracking(env);
    if (!tracking.enabled || tracking.debug) return nullptr;
    tracking = decide_tracking(env, paths && ensure_config_dir(*paths));
    if (!tracking.enabled) return nullptr;
    auto open = store::Journal::open(*paths, runtime.clock, store::OpenMode::read_write, runtime.tricks, lock_wait);
    if (busy) *busy = open.status == store::OpenStatus::busy;
    JournalFacts facts{open.reason, false};
    try {
        if (open.journal) facts.user_disabled = open.journal->tracking_disabled();
    } catch (const std::exception& e) {
        facts.problem = e.what();
    }
    tracking = decide_tracking(env, true, facts);
    return tracking.enabled ? std::move(open.journal) : nullptr;
}

// The journal could not even be opened in time: the event is set aside
// with the identity usage.json shows (none: the fold gives it the current one).
void set_aside_unopened(const Runtime& runtime, const ConfigPaths& paths,
                        const std::function<store::NewEvent(const store::CurrentIdentity&)>& build) {
    store::CurrentIdentity id;
    static_cast<store::Identity&>(id) = store::read_identity_file(paths.usage_json()).value_or(store::Identity{});
    id.logged_in = load_credentials(paths.credentials()).has_value();
    if (!id.logged_in) id.principal_id.reset();  // a link whose login is gone is not carried on
    store::set_aside(paths, store::make_row(build(id), id, runtime.clock.now_ms()));
}

}  // namespace

std::unique_ptr<store::Journal> open_tracking_journal(const Runtime& runtime, const std::optional<ConfigPaths>& paths) {
    Tracking tracking;
    return open_when_tracking(runtime, paths, tracking);
}

void link_after_login(const Runtime& runtime, const std::optional<ConfigPaths>& paths, const std::string& cloud_url,
                      const Credentials& creds) noexcept {
    try {
        auto journal = open_tracking_journal(runtime, paths);
        if (!journal) return;
        // The files as they are now (the credentials login just wrote).
        const std::string asked_for = journal->sync_identity().anon_id;
        auto transport = runtime.make_transport();
        auto found = shipper::lookup_principal(*transport, cloud_url, creds, std::chrono::milliseconds(2000));
        if (found.outcome != shipper::PrincipalLookup::Outcome::found) return;
        const std::string principal = found.principal_id;
        // If a logout elsewhere rotated the identity while Cloud answered, the
        // new id belongs to whoever comes next: link() refuses it. An id that
        // is or was linked to someone else is rotated first, inside link().
        journal->link(
            principal, [&](const store::Identity& before) { return shipper::alias_properties(before.anon_id, principal); },
            asked_for, creds.account_identity());
    } catch (...) {
    }
}

void record_invocation(const Invocation& inv, const Runtime& runtime, const std::optional<ConfigPaths>& paths,
                       std::ostream& err) {
    const Environ& env = runtime.env;
    Tracking tracking = decide_tracking(env);
    try {
        if (tracking.enabled && tracking.debug) {
            print_debug_event(inv, runtime, paths, err);
            return;
        }
        if (tracking.enabled && runtime.tricks.prefault_memory) store::prefault_for_append();
        // SPEC §7: the command's own event waits at most kCommandLockWait
        // for another process's lock, then is set aside.
        bool busy = false;
        auto journal = open_when_tracking(runtime, paths, tracking, store::kCommandLockWait, &busy);
        // Built before the write transaction: only an OAuth login's org and
        // project, known once the identity is checked inside it, need the
        // properties built again there.
        const std::string properties = build_properties(inv, env);
        auto build = [&](const store::CurrentIdentity& id) {
            store::NewEvent ev;
            ev.event = event_name(inv);
            ev.distinct_id = id.distinct_id();
            ev.needs_identity = id.needs_identity();
            ev.properties =
                id.org_id.empty() && id.project_id.empty() ? properties : build_properties(inv, env, &id);
            return ev;
        };
        if (!journal) {
            if (busy) set_aside_unopened(runtime, *paths, build);
            else if (tracking.debug) err << "arcade usage: tracking off: " << tracking.reason << "\n";
            return;
        }
        journal->limit_wal(kCliWalFrames);
        std::optional<store::LoginOverride> login;
        if (inv.logout) login = inv.removed_login.value_or(store::LoginOverride{});
        bool appended = journal->append_or_set_aside(build, login) == store::Journal::Recorded::appended;
        // An identity transition is not set aside: it rewrites usage.json in
        // the same transaction, which a fold could not (docs/RELIABILITY.md, F1).
        if (inv.logout) {
            journal->set_lock_wait(store::kLockWait);
            journal->rotate_after_logout(inv.removed_credentials);
        }
        // Claiming the notice is a write; a locked journal would make the
        // command wait for it again.
        if (appended && !journal->notice_shown() && journal->claim_first_run_notice()) err << kPrivacyNotice;

        auto now = runtime.clock.now_ms();
        // The quick probe: this command starts a shipper itself whenever it
        // finds the lock free (store/ship_lock.h).
        bool start_shipper =
            !shipper::backoff_in_force(*journal, now) && !store::ShipLock::is_held_quick(paths->ship_lock());
        // Closed before spawning: closing writes to many pages, each of which
        // would be copied if the child were a fork.
        journal.reset();
        // Without a path beside us (no /proc) nothing is started: the events
        // wait for the next command or `usage flush`.
        if (auto shipper = shipper_path(); start_shipper && !shipper.empty())
            runtime.spawner.detached(shipper, {}, Reap::by_kernel);
    } catch (const std::exception& e) {
        if (tracking.debug) err << "arcade usage: " << e.what() << "\n";
    }
}

}  // namespace arcade::cli
