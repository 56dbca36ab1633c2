#include "cli/tracking.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ostream>

#include "cli/scrub.h"
#include "core/spawn.h"
#include "core/build_info.h"
#include "core/clock.h"
#include "core/credentials.h"
#include "core/files.h"
#include "core/time_format.h"
#include "core/uuid.h"
#include "shipper/event_wire.h"
#include "shipper/schedule.h"
#include "store/ship_lock.h"

namespace arcade::cli {

using shipper::TrackingDecision;
using shipper::decide_tracking;

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
    auto kv = [&](const char* key, const std::string& value) {
        w.Key(key);
        w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    };
    auto seconds = [](double s) { return std::round(s * 1000.0) / 1000.0; };
    w.StartObject();
    kv("command_name", valid_utf8(inv.command_name));
    kv("cli_version", build::kVersion);
    kv("runtime_language", "cpp");
    kv("runtime_version", runtime_version());
    kv("os_type", uts.sysname);
    kv("os_release", uts.release);
    w.Key("duration_ms");
    w.Int64(static_cast<std::int64_t>(std::llround(std::max(0.0, inv.end_monotonic_s - inv.start_monotonic_s) * 1000.0)));
    if (inv.exit_code != 0) kv("error_message", scrub_error_message(inv.error_message, home_dir(env)));
    w.Key("device_start_timestamp");
    w.Double(seconds(inv.start_monotonic_s));
    w.Key("device_end_timestamp");
    w.Double(seconds(inv.end_monotonic_s));
    kv("$lib", build::kLibName);
    kv("$lib_version", build::kVersion);
    w.Key("$geoip_disable");
    w.Bool(true);
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
void print_debug_event(const Invocation& inv, const Environ& env, const std::optional<ConfigPaths>& paths,
                       std::ostream& err) {
    store::Identity id;
    if (paths) {
        if (auto open = store::Journal::open(*paths, system_clock(), store::OpenMode::read_only); open.journal) {
            try {
                if (open.journal->setting("tracking_disabled")) {
                    err << "arcade usage: tracking off: disabled by `arcade usage disable`\n";
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
    row.created_ms = system_clock().now_ms();
    row.uuid = uuid_v7(row.created_ms);
    row.timestamp = rfc3339_ms(row.created_ms);
    row.kind = "event";
    row.event = event_name(inv);
    row.distinct_id = who.distinct_id;
    row.anon_id = id.anon_id;
    row.properties = build_properties(inv, env);
    err << shipper::encode_event(row) << "\n";
}

}  // namespace

std::unique_ptr<store::Journal> open_tracking_journal(const Environ& env, const std::optional<ConfigPaths>& paths) {
    TrackingDecision decision = decide_tracking(env);
    if (!decision.enabled || decision.debug || !paths || !ensure_private_dir(paths->dir)) return nullptr;
    auto open = store::Journal::open(*paths, system_clock(), store::OpenMode::read_write);
    if (!open.journal) return nullptr;
    try {
        if (open.journal->setting("tracking_disabled")) return nullptr;
    } catch (const std::exception&) {
        return nullptr;
    }
    return std::move(open.journal);
}

void record_invocation(const Invocation& inv, const Environ& env, const std::optional<ConfigPaths>& paths,
                       std::ostream& err) {
    TrackingDecision decision = decide_tracking(env);
    try {
        if (!decision.enabled) {
            if (decision.debug) err << "arcade usage: tracking off: " << decision.reason << "\n";
            return;
        }
        if (decision.debug) {
            print_debug_event(inv, env, paths, err);
            return;
        }
        if (!paths || !ensure_private_dir(paths->dir)) {
            if (decision.debug) err << "arcade usage: no usable config directory\n";
            return;
        }
        store::prefault_for_append();
        auto open = store::Journal::open(*paths, system_clock(), store::OpenMode::read_write);
        if (!open.journal) {
            if (decision.debug) err << "arcade usage: " << open.reason << "\n";
            return;
        }
        store::Journal& journal = *open.journal;
        journal.limit_wal(kCliWalFrames);
        if (journal.setting("tracking_disabled")) {
            if (decision.debug) err << "arcade usage: tracking off: disabled by `arcade usage disable`\n";
            return;
        }
        std::string properties = build_properties(inv, env);
        journal.append([&](const store::Identity& id) {
            auto who = attribute(id, paths);
            store::NewEvent ev;
            ev.event = event_name(inv);
            ev.distinct_id = who.distinct_id;
            ev.needs_identity = who.needs_identity;
            ev.properties = properties;
            return ev;
        });
        if (inv.rotate_identity) journal.rotate();
        if (!journal.setting("notice_shown") && journal.claim_first_run_notice()) err << kPrivacyNotice;

        auto now = system_clock().now_ms();
        bool start_shipper =
            !shipper::backoff_in_force(journal, now) && !store::ShipLock::is_held_elsewhere(paths->ship_lock());
        // Closed before forking: after fork every page the parent writes is
        // copied, and closing the journal writes to many.
        open.journal.reset();
        if (start_shipper) spawn_detached(shipper_path(), {});
    } catch (const std::exception& e) {
        if (decision.debug) err << "arcade usage: " << e.what() << "\n";
    }
}

}  // namespace arcade::cli
