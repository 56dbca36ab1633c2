#include "cli/usage_commands.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/tracking.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/terminal_text.h"
#include "core/time_format.h"
#include "shipper/schedule.h"
#include "shipper/ship_run.h"
#include "shipper/tracking_config.h"
#include "store/journal.h"
#include "store/set_aside.h"
#include "store/ship_lock.h"

namespace arcade::cli {
namespace {

struct StatusOptions {
    bool json = false;
    bool events = false;
};
struct PurgeOptions {
    bool all = false;
    bool yes = false;
};

std::int64_t bytes_on_disk(const std::filesystem::path& p) {
    std::error_code ec;
    auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : static_cast<std::int64_t>(n);
}

// Everything `usage status` shows, gathered once for both renderings.
struct Status {
    bool enabled = false;
    std::string reason;
    store::Identity identity;
    bool have_identity = false;
    std::string next_distinct_id;
    bool next_needs_identity = false;
    bool identity_synced = false;  // checked against the files by the journal, as an append would
    std::optional<std::string> rotation_reason;
    store::QueueCounts queue;
    std::int64_t set_aside = 0;  // events waiting outside a locked journal
    bool running = false;
    std::string ship_lock_problem;  // why no shipper can take ship.lock
    std::optional<std::int64_t> last_attempt, last_success, next_attempt;
    std::optional<std::string> last_error;
    std::string journal_path;
    std::int64_t journal_bytes = 0;
    std::string journal_problem;
    std::vector<store::StoredEvent> events;
};

// Why the anonymous id last changed, in words.
std::string rotation_text(const std::string& reason) {
    if (reason == store::rotation::kLogout) return "at logout";
    if (reason == store::rotation::kCredentialsRemoved) return "credentials.yaml was removed";
    if (reason == store::rotation::kCredentialsChanged) return "credentials.yaml holds another login";
    if (reason == store::rotation::kPurge) return "`arcade usage purge --all`";
    return reason;
}

Status gather_status(Context& ctx, bool with_events) {
    Status s;
    const auto& paths = ctx.paths();
    const std::string dir_problem = paths ? config_dir_problem(*paths) : std::string();
    auto tracking = shipper::decide_tracking(ctx.env(), paths.has_value(), std::nullopt, dir_problem);
    s.enabled = tracking.enabled;
    s.reason = tracking.reason;
    if (!paths) return s;
    s.journal_path = paths->journal().string();
    // SPEC §4: what the next event would get, from the files as they are now.
    // With tracking on that is the journal's own per-append check (it may
    // adopt usage.json or rotate a link whose login is gone), so this status
    // and the next event agree.
    if (tracking.enabled && !tracking.debug) {
        try {
            if (auto journal = open_tracking_journal(ctx.runtime(), paths)) {
                auto current = journal->sync_identity();
                s.identity = current;
                s.have_identity = true;
                s.identity_synced = true;
                s.next_distinct_id = current.distinct_id();
                s.next_needs_identity = current.needs_identity();
            }
        } catch (const std::exception&) {
        }
    }
    s.journal_bytes = bytes_on_disk(paths->journal()) + bytes_on_disk(paths->dir / "usage.db-wal");
    std::error_code ec;
    if (std::filesystem::exists(paths->journal(), ec)) {
        auto open = store::Journal::open(*paths, ctx.runtime().clock, store::OpenMode::read_only, ctx.runtime().tricks);
        shipper::JournalFacts facts{open.reason, false};
        if (open.journal) {
            try {
                auto& j = *open.journal;
                facts.user_disabled = j.tracking_disabled();
                if (auto id = j.identity(); id && !s.identity_synced) {
                    s.identity = *id;
                    s.have_identity = true;
                }
                s.rotation_reason = j.last_rotation_reason();
                s.queue = j.counts();
                auto shipper = j.shipper_record();
                s.last_attempt = shipper.last_attempt_ms;
                s.last_success = shipper.last_success_ms;
                s.next_attempt = shipper.next_attempt_ms;
                s.last_error = shipper.last_error;
                if (with_events) s.events = j.events(100000);
            } catch (const std::exception& e) {
                s.journal_problem = e.what();
            }
        } else {
            s.journal_problem = open.reason;
        }
        if (s.enabled) {
            tracking = shipper::decide_tracking(ctx.env(), true, facts);
            s.enabled = tracking.enabled;
            s.reason = tracking.reason;
        }
    }
    // Tracking off (nothing may be written): usage.json as it is wins.
    if (!s.identity_synced) {
        if (auto file = store::read_identity_file(paths->usage_json())) {
            s.identity = *file;
            s.have_identity = true;
        }
    }
    if (s.have_identity && !s.identity_synced) {
        auto who = attribute(s.identity, paths);
        s.next_distinct_id = who.distinct_id;
        s.next_needs_identity = who.needs_identity;
    }
    s.set_aside = store::count_set_aside(*paths);
    s.running = store::ShipLock::is_held_elsewhere(paths->ship_lock());
    s.ship_lock_problem = store::ShipLock::problem_at(paths->ship_lock());
    return s;
}

void write_json_status(Context& ctx, const Status& s, bool with_events) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    JsonFields f(w);
    auto opt_time = [&](const char* key, const std::optional<std::int64_t>& ms) {
        f.opt_str(key, ms ? std::optional<std::string>(rfc3339_ms(*ms)) : std::nullopt);
    };
    w.StartObject();
    f.object("tracking", [&] {
        f.boolean("enabled", s.enabled);
        f.str("reason", s.reason);
    });
    f.object("identity", [&] {
        f.str("anon_id", s.identity.anon_id);
        f.opt_str("linked_principal_id", s.identity.principal_id);
        f.str("distinct_id", s.next_distinct_id);
        f.boolean("needs_identity", s.next_needs_identity);
        f.opt_str("reason", s.rotation_reason);
    });
    f.object("queue", [&] {
        for (auto [key, value] : {std::pair{"pending", s.queue.pending}, {"dead", s.queue.dead},
                                  {"dropped", s.queue.dropped}, {"dropped_cap", s.queue.dropped_cap},
                                  {"dropped_age", s.queue.dropped_age}, {"sent", s.queue.sent},
                                  {"pruned_sent", s.queue.pruned_sent}, {"set_aside", s.set_aside}})
            f.integer(key, value);
        opt_time("oldest_pending_at", s.queue.oldest_pending_ms);
    });
    f.object("shipper", [&] {
        f.boolean("running", s.running);
        if (!s.ship_lock_problem.empty()) f.str("problem", s.ship_lock_problem);
        opt_time("last_attempt_at", s.last_attempt);
        opt_time("last_success_at", s.last_success);
        f.opt_str("last_error", s.last_error);
        opt_time("next_attempt_at", s.next_attempt);
    });
    f.object("journal", [&] {
        f.str("path", s.journal_path);
        f.integer("bytes", s.journal_bytes);
        if (!s.journal_problem.empty()) f.str("problem", s.journal_problem);
    });
    if (with_events) {
        w.Key("events");
        w.StartArray();
        for (const auto& e : s.events) {
            w.StartObject();
            f.str("uuid", e.uuid);
            f.str("timestamp", e.timestamp);
            f.str("kind", e.kind);
            f.str("event", e.event);
            f.str("distinct_id", e.distinct_id);
            f.str("state", e.state);
            f.integer("attempts", e.attempts);
            f.boolean("needs_identity", e.needs_identity);
            f.opt_str("dead_reason", e.dead_reason);
            w.Key("properties");
            rapidjson::Document props;
            props.Parse<rapidjson::kParseIterativeFlag>(e.properties.c_str(), e.properties.size());
            if (props.HasParseError()) w.Null();
            else props.Accept(w);
            w.EndObject();
        }
        w.EndArray();
    }
    w.EndObject();
    ctx.out() << json_terminal_safe(std::string_view(buf.GetString(), buf.GetSize())) << "\n";
}

std::string human_bytes(std::int64_t n) {
    if (n < 1024) return fmt::format("{} B", n);
    if (n < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024.0);
    return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024.0 * 1024.0));
}

void write_text_status(Context& ctx, const Status& s, bool with_events) {
    const bool color = ctx.io().color;
    auto bold = [&](const std::string& t) { return color ? "\x1b[1m" + t + "\x1b[0m" : t; };
    auto paint = [&](const std::string& t, const char* code) {
        return color ? std::string("\x1b[") + code + "m" + t + "\x1b[0m" : t;
    };
    auto now = ctx.runtime().clock.now_ms();
    auto ago = [&](const std::optional<std::int64_t>& ms) {
        if (!ms) return std::string("never");
        return rfc3339_ms(*ms) + (*ms <= now ? " (" + human_age(now - *ms) + " ago)" : " (in " + human_age(*ms - now) + ")");
    };
    auto& o = ctx.out();
    o << bold("Usage tracking") << ": "
      << (s.enabled ? paint("on", "32") : paint("off", "33") + " — " + terminal_safe(s.reason)) << "\n\n";
    o << bold("Identity") << "\n";
    o << fmt::format("  {:<18} {}\n", "anonymous id",
                     s.have_identity ? terminal_safe(s.identity.anon_id) : "(none yet)");
    o << fmt::format("  {:<18} {}\n", "linked principal", terminal_safe(s.identity.principal_id.value_or("none")));
    if (s.have_identity)
        o << fmt::format("  {:<18} {}{}\n", "next event as", terminal_safe(s.next_distinct_id),
                         s.identity.principal_id ? " (identified)"
                         : s.next_needs_identity ? " (anonymous until the shipper links your login)"
                                                 : " (anonymous)");
    if (s.rotation_reason) o << fmt::format("  {:<18} {}\n", "last new id", rotation_text(*s.rotation_reason));
    o << "\n" << bold("Queue") << "\n";
    o << fmt::format("  {:<18} {}{}\n", "pending", s.queue.pending,
                     s.queue.oldest_pending_ms ? " (oldest " + human_age(now - *s.queue.oldest_pending_ms) + " old)"
                                               : "");
    if (s.set_aside > 0)
        o << fmt::format("  {:<18} {} (the journal was locked by another program; the next write adds them)\n",
                         "set aside", s.set_aside);
    o << fmt::format("  {:<18} {}\n", "dead-lettered", s.queue.dead);
    o << fmt::format("  {:<18} {} (over the 10,000 cap: {}, older than 30 days: {})\n", "dropped", s.queue.dropped,
                     s.queue.dropped_cap, s.queue.dropped_age);
    o << fmt::format("  {:<18} {} (kept 7 days)\n", "sent", s.queue.sent);
    o << "\n" << bold("Shipper") << "\n";
    o << fmt::format("  {:<18} {}\n", "running", s.running ? "yes" : "no");
    if (!s.ship_lock_problem.empty())
        o << fmt::format("  {:<18} {}\n", "problem", paint(terminal_safe(s.ship_lock_problem), "31"));
    o << fmt::format("  {:<18} {}\n", "last attempt", ago(s.last_attempt));
    o << fmt::format("  {:<18} {}\n", "last success", ago(s.last_success));
    o << fmt::format("  {:<18} {}\n", "last error",
                     s.last_error ? paint(terminal_safe(*s.last_error), "31") : "none");
    o << fmt::format("  {:<18} {}\n", "next attempt",
                     s.next_attempt && *s.next_attempt > now ? ago(s.next_attempt) : std::string("any time"));
    o << "\n" << bold("Journal") << "\n";
    o << fmt::format("  {:<18} {}\n", "path", s.journal_path.empty() ? "(none)" : terminal_safe(s.journal_path));
    o << fmt::format("  {:<18} {}\n", "size", human_bytes(s.journal_bytes));
    if (!s.journal_problem.empty())
        o << fmt::format("  {:<18} {}\n", "problem", paint(terminal_safe(s.journal_problem), "31"));
    if (with_events) {
        o << "\n" << bold("Events") << "\n";
        if (s.events.empty()) o << "  (none)\n";
        for (const auto& e : s.events) {
            rapidjson::Document props;
            props.Parse<rapidjson::kParseIterativeFlag>(e.properties.c_str(), e.properties.size());
            std::string command;
            if (!props.HasParseError() && props.IsObject() && props.HasMember("command_name") &&
                props["command_name"].IsString())
                command = props["command_name"].GetString();
            o << fmt::format("  {}  {:<7}  {:<24} {:<16} as {}{}\n", terminal_safe(e.timestamp),
                             terminal_safe(e.state), terminal_safe(e.event), terminal_safe(command),
                             terminal_safe(e.distinct_id),
                             e.dead_reason ? " — " + terminal_safe(*e.dead_reason) : "");
        }
    }
}

int run_status(Context& ctx, const StatusOptions& opt) {
    Status s = gather_status(ctx, opt.events);
    if (opt.json) write_json_status(ctx, s, opt.events);
    else write_text_status(ctx, s, opt.events);
    return 0;
}

bool confirm(Context& ctx, const std::string& question) {
    ctx.err() << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

int run_purge(Context& ctx, const PurgeOptions& opt) {
    if (!ctx.paths()) return ctx.fail("No config directory: set HOME or ARCADE_WORK_DIR.");
    const auto& paths = *ctx.paths();
    if (!opt.yes) {
        if (!ctx.io().in_is_tty)
            return ctx.fail("Refusing to purge without --yes: standard input is not a terminal.");
        std::string what = opt.all ? "Delete every queued, sent and dead usage event and this machine's usage identity?"
                                   : "Delete every queued, sent and dead usage event?";
        if (!confirm(ctx, what)) {
            ctx.out() << "Nothing deleted.\n";
            return 0;
        }
    }
    std::error_code ec;
    if (!std::filesystem::exists(paths.journal(), ec)) {
        store::purge_set_aside(paths);
        if (opt.all) ::unlink(paths.usage_json().c_str());
        ctx.out() << "Nothing to purge.\n";
        return 0;
    }
    // A running shipper would keep WAL frames alive; wait for it (it exits within 10 s).
    auto lock = store::ShipLock::acquire(paths.ship_lock(), shipper::kOutwaitShipper);
    auto open = store::Journal::open(paths, ctx.runtime().clock, store::OpenMode::read_write, ctx.runtime().tricks);
    if (!open.journal) {
        if (open.status == store::OpenStatus::newer_schema)
            return ctx.fail("Cannot purge: " + open.reason + ". Use a newer arcade.");
        // Unreadable: nothing in it can be kept; remove the files entirely.
        for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((paths.journal().string() + suffix).c_str());
        store::purge_set_aside(paths);
        if (opt.all) ::unlink(paths.usage_json().c_str());
        ctx.out() << "The journal was unreadable and has been removed.\n";
        return 0;
    }
    try {
        auto counts = open.journal->counts();
        auto aside = store::count_set_aside(paths);
        open.journal->purge(opt.all);
        ctx.out() << fmt::format("Purged {} events ({} pending, {} sent, {} dead{}){}.\n",
                                 counts.pending + counts.sent + counts.dead + aside, counts.pending, counts.sent,
                                 counts.dead, aside > 0 ? fmt::format(", {} set aside", aside) : "",
                                 opt.all ? " and the usage identity; a new anonymous id is made on the next run" : "");
    } catch (const std::exception& e) {
        return ctx.fail(std::string("Could not purge the journal: ") + e.what());
    }
    return 0;
}

int set_disabled(Context& ctx, bool disabled) {
    if (!ctx.paths() || !ensure_private_dir(ctx.paths()->dir))
        return ctx.fail("No usable config directory: cannot save the choice.");
    auto open = store::Journal::open(*ctx.paths(), ctx.runtime().clock, store::OpenMode::read_write, ctx.runtime().tricks);
    if (!open.journal) return ctx.fail("Cannot save the choice: " + open.reason);
    try {
        open.journal->set_tracking_disabled(disabled);
    } catch (const std::exception& e) {
        return ctx.fail(std::string("Cannot save the choice: ") + e.what());
    }
    if (disabled) {
        ctx.out() << "Usage tracking disabled; pending events were dropped. `arcade usage enable` turns it back on.\n";
    } else {
        ctx.out() << "Usage tracking enabled.\n";
        auto tracking = shipper::decide_tracking(ctx.env());
        if (!tracking.enabled)
            ctx.out() << "Note: still off in this environment: " << terminal_safe(tracking.reason) << ".\n";
    }
    return 0;
}

int run_flush(Context& ctx) {
    bool progress = ctx.io().in_is_tty && ::isatty(2);
    shipper::ShipOptions options;
    options.budget = std::chrono::minutes(1);
    options.ignore_backoff = true;
    options.lock_wait = shipper::kOutwaitShipper;
    if (progress) {
        options.on_progress = [&](const shipper::DrainProgress& p) {
            ctx.err() << fmt::format("\rDelivered {} of {}…", p.delivered, p.pending_at_start) << std::flush;
        };
    }
    auto outcome = shipper::ship(ctx.runtime(), options);
    if (progress) ctx.err() << "\r\x1b[K" << std::flush;
    using S = shipper::ShipOutcome::Status;
    if (outcome.status != S::ran) {
        if (outcome.status == S::tracking_off) {
            ctx.out() << "Usage tracking is off (" << terminal_safe(outcome.reason) << "); nothing was sent.\n";
            return 0;
        }
        return ctx.fail("Could not flush: " + terminal_safe(outcome.reason) + ".");
    }
    const auto& r = outcome.report;
    ctx.out() << fmt::format("Delivered {} event{}; {} pending, {} dead-lettered{}.\n", r.delivered,
                             r.delivered == 1 ? "" : "s", r.remaining, r.dead,
                             r.error.empty() ? "" : " — " + terminal_safe(r.error));
    if (r.remaining > 0) {
        ctx.set_error(fmt::format("{} events remain undelivered", r.remaining));
        return 1;
    }
    return 0;
}

}  // namespace

void setup_usage_commands(CLI::App& root, CommandTable& table) {
    auto* usage = root.add_subcommand("usage", "See and control usage tracking");
    usage->require_subcommand(1);

    auto status_opt = std::make_shared<StatusOptions>();
    auto* status = usage->add_subcommand("status", "Show tracking state, identity, queue and shipper");
    status->add_flag("--json", status_opt->json, "Machine-readable output");
    status->add_flag("--events", status_opt->events, "List the events in the journal");
    table.add(status, [status_opt](Context& ctx) { return run_status(ctx, *status_opt); });

    auto purge_opt = std::make_shared<PurgeOptions>();
    auto* purge = usage->add_subcommand("purge", "Delete every recorded usage event from this machine");
    purge->add_flag("--all", purge_opt->all, "Also forget this machine's usage identity");
    purge->add_flag("--yes,-y", purge_opt->yes, "Do not ask for confirmation");
    table.add(purge, [purge_opt](Context& ctx) { return run_purge(ctx, *purge_opt); }, Tracked::no);

    auto* disable = usage->add_subcommand("disable", "Turn usage tracking off (and drop pending events)");
    table.add(disable, [](Context& ctx) { return set_disabled(ctx, true); }, Tracked::no);
    auto* enable = usage->add_subcommand("enable", "Turn usage tracking back on");
    table.add(enable, [](Context& ctx) { return set_disabled(ctx, false); });

    auto* flush = usage->add_subcommand("flush", "Deliver pending events now, in the foreground");
    table.add(flush, [](Context& ctx) { return run_flush(ctx); });
}

}  // namespace arcade::cli
