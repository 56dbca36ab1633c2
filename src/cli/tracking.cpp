#include "cli/tracking.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ostream>

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
#include "shipper/schedule.h"
#include "store/set_aside.h"
#include "store/ship_lock.h"

namespace arcade::cli {

using shipper::decide_tracking;
using shipper::JournalFacts;
using shipper::Tracking;

const char* const kPrivacyNotice =
    "Arcade CLI collects anonymous usage data (command names, timings, errors) to improve the tool.\n"
    "See what is queued with `arcade usage status --events`. To opt out, run `arcade usage disable`,\n"
    "or set ARCADE_USAGE_TRACKING=0 or DO_NOT_TRACK=1.\n";

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

}  // namespace

std::string build_properties(const Invocation& inv, const Environ& env) {
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
                        const std::function<store::NewEvent(const store::Identity&)>& build) {
    store::Identity id = store::read_identity_file(paths.usage_json()).value_or(store::Identity{});
    store::set_aside(paths, store::make_row(build(id), id, runtime.clock.now_ms()));
}

}  // namespace

std::unique_ptr<store::Journal> open_tracking_journal(const Runtime& runtime, const std::optional<ConfigPaths>& paths) {
    Tracking tracking;
    return open_when_tracking(runtime, paths, tracking);
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
        std::string properties = build_properties(inv, env);
        auto build = [&](const store::Identity& id) {
            auto who = attribute(id, paths);
            store::NewEvent ev;
            ev.event = event_name(inv);
            ev.distinct_id = who.distinct_id;
            ev.needs_identity = who.needs_identity;
            ev.properties = properties;
            return ev;
        };
        if (!journal) {
            if (busy) set_aside_unopened(runtime, *paths, build);
            else if (tracking.debug) err << "arcade usage: tracking off: " << tracking.reason << "\n";
            return;
        }
        journal->limit_wal(kCliWalFrames);
        bool appended = journal->append_or_set_aside(build) == store::Journal::Recorded::appended;
        // An identity transition is not set aside: it rewrites usage.json in
        // the same transaction, which a fold could not (docs/RELIABILITY.md, F1).
        if (inv.rotate_identity) {
            journal->set_lock_wait(store::kLockWait);
            journal->rotate();
        }
        // Claiming the notice is a write; a locked journal would make the
        // command wait for it again.
        if (appended && !journal->notice_shown() && journal->claim_first_run_notice()) err << kPrivacyNotice;

        auto now = runtime.clock.now_ms();
        bool start_shipper =
            !shipper::backoff_in_force(*journal, now) && !store::ShipLock::is_held_elsewhere(paths->ship_lock());
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
