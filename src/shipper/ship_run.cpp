#include "shipper/ship_run.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/files.h"
#include "core/paths.h"
#include "core/spawn.h"
#include "shipper/tracking_config.h"
#include "store/journal_watch.h"
#include "store/set_aside.h"
#include "store/ship_lock.h"

namespace arcade::shipper {

ShipOutcome ship(const Runtime& runtime, const ShipOptions& options) {
    ShipOutcome out;
    const Environ& env = runtime.env;
    const Clock& clock = runtime.clock;
    const MonotonicTime start = clock.monotonic();
    Tracking tracking = decide_tracking(env);
    if (!tracking.enabled || tracking.debug) {
        out.reason = tracking.reason;
        return out;
    }
    auto paths = config_paths(env);
    tracking = decide_tracking(env, paths && ensure_config_dir(*paths));
    if (!tracking.enabled) {
        out.status = ShipOutcome::Status::no_config;
        out.reason = tracking.reason;
        return out;
    }
    try {
        Relay* relay = options.relay;
        // A relayed run starts with the lock its parent held.
        store::ShipLock lock = relay && relay->lock ? std::move(*relay->lock)
                                                    : store::ShipLock::acquire(paths->ship_lock(), options.lock_wait);
        if (relay) relay->lock.reset();
        if (!lock.held()) {
            out.status = ShipOutcome::Status::locked_elsewhere;
            out.reason = lock.why_not_held();
            return out;
        }
        auto open = store::Journal::open(*paths, clock, store::OpenMode::read_write, runtime.tricks);
        if (!open.journal) {
            out.status = ShipOutcome::Status::journal_unusable;
            out.reason = open.reason;
            return out;
        }
        store::Journal& journal = *open.journal;
        tracking = decide_tracking(env, true, JournalFacts{{}, journal.tracking_disabled()});
        if (!tracking.enabled) {
            out.reason = tracking.reason;
            return out;
        }
        if (!options.ignore_backoff && backoff_in_force(journal, clock.now_ms())) {
            out.status = ShipOutcome::Status::backoff;
            out.reason = "waiting for the next allowed attempt";
            return out;
        }
        std::unique_ptr<http::Transport> transport =
            relay && relay->transport ? std::move(relay->transport) : runtime.make_transport();
        DrainConfig cfg;
        cfg.posthog_host = runtime.endpoints.posthog;
        cfg.api_key = tracking.posthog_key;
        cfg.cloud_url = runtime.endpoints.cloud;
        cfg.paths = paths;
        cfg.deadline = start + options.budget;
        cfg.on_progress = options.on_progress;
        // Watching from before the first drain: a row appended while it
        // runs wakes the wait below at once.
        std::optional<store::JournalWatch> watch;
        if (options.linger > std::chrono::milliseconds(0)) watch.emplace(*paths, runtime.tricks.watch_for_rows);
        out.status = ShipOutcome::Status::ran;
        out.report = drain(journal, *transport, clock, cfg);
        const std::int64_t first_scan_top = out.report.final_scan_top;
        // Lingering lasts options.linger from the last time rows arrived:
        // this first drain's, unless it found nothing and a relayed run
        // carries its parent's time, so a chain of relays waits no longer
        // after the last command than one shipper would.
        MonotonicTime rows_seen = out.report.delivered + out.report.dead > 0 || !options.rows_seen_at
                                      ? clock.monotonic()
                                      : *options.rows_seen_at;
        // Lingering stops a second before the deadline, so a row taken at
        // the last moment still has time to go. The CLI starts no shipper
        // while we hold the lock; what it appends after our last look is
        // found by the check after the lock is released, below.
        if (!out.report.failed && !out.report.out_of_time && watch) {
            const MonotonicTime stop_by = cfg.deadline - std::chrono::seconds(1);
            MonotonicTime linger_until = rows_seen + options.linger;
            for (;;) {
                const MonotonicTime until = std::min(linger_until, stop_by);
                const MonotonicTime now = clock.monotonic();
                if (now >= until) break;
                auto sign = watch->wait(std::chrono::duration_cast<std::chrono::milliseconds>(until - now));
                if (sign == store::JournalWatch::Sign::lock_wanted) {
                    out.stepped_aside = true;
                    break;
                }
                if (sign == store::JournalWatch::Sign::elapsed) continue;
                if (journal.last_seq() <= out.report.final_scan_top && store::count_set_aside(*paths) == 0) continue;
                DrainReport more = drain(journal, *transport, clock, cfg);
                more.delivered += out.report.delivered;
                more.dead += out.report.dead;
                more.requests += out.report.requests;
                more.retries += out.report.retries;
                out.report = more;
                if (out.report.failed || out.report.out_of_time) break;
                rows_seen = clock.monotonic();
                linger_until = rows_seen + options.linger;
            }
        }
        journal.checkpoint();
        // Someone is typing (rows came while we lingered): hand the lock
        // and the loaded transport to a forked child instead of letting the
        // next command start a fresh shipper. What arrives from now on is
        // the child's, since the lock is never free in between.
        const bool rows_came_meanwhile = out.report.final_scan_top > first_scan_top;
        if (relay && relay->allowed && rows_came_meanwhile && !out.stepped_aside && !out.report.failed &&
            !out.report.out_of_time && relay->allowed()) {
            open.journal.reset();  // no SQLite connection crosses a fork
            relay->lock = std::move(lock);
            relay->transport = std::move(transport);
            out.relay_ready = true;
            out.rows_seen_at = rows_seen;
            return out;
        }
        lock.release();
        // A CLI that appended while we held the lock did not start a shipper:
        // whatever arrived after our last scan, or what we had no time for,
        // needs a successor (unless a failure put a backoff in force).
        if (!out.report.failed)
            out.successor_needed = out.report.out_of_time || journal.last_seq() > out.report.final_scan_top ||
                                   store::count_set_aside(*paths) > 0;
    } catch (const std::exception& e) {
        out.status = ShipOutcome::Status::journal_unusable;
        out.reason = e.what();
    }
    return out;
}

namespace {

// Hard watchdog: SIGALRM's default action ends the process, lock and all
// (flock dies with it), kWatchdog from now, whatever the network does. A
// forked child starts without the timer and arms its own.
void arm_watchdog() {
    itimerval watchdog{};
    watchdog.it_value.tv_sec = static_cast<time_t>(kWatchdog.count() / 1000);
    watchdog.it_value.tv_usec = static_cast<suseconds_t>(kWatchdog.count() % 1000 * 1000);
    ::signal(SIGALRM, SIG_DFL);
    ::setitimer(ITIMER_REAL, &watchdog, nullptr);
}

// False once the program file this process runs was replaced or removed (a
// package upgrade): the next shipper should be the new one, not a fork.
bool program_file_current() {
    char target[4096];
    ssize_t n = ::readlink("/proc/self/exe", target, sizeof target - 1);
    if (n <= 0) return false;
    std::string_view path(target, static_cast<std::size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";
    return !(path.size() >= kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted);
}

// Forks the next shipper. In the parent (on success) it never returns: the
// parent leaves at once with _exit, running no destructor, so the lock
// (an flock shared with the child through the inherited descriptor) and the
// connection stay the child's. True in the child; false when fork failed.
bool relay_to_child() {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid > 0) ::_exit(0);
    return true;
}

}  // namespace

int shipper_main(const Runtime& runtime) {
    arm_watchdog();
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);

    MonotonicTime start = runtime.clock.monotonic();
    const ShipOptions fresh = [] {
        ShipOptions o;
        o.budget = kSendBudget;
        o.linger = kLinger;
        return o;
    }();
    ShipOptions options = fresh;
    Relay relay;
    int relays = 0;
    relay.allowed = [&relays] { return relays < kMaxRelays && program_file_current(); };
    // Each round either sends or lingers; the bound only guards against a
    // journal that keeps reporting new rows it cannot hand over.
    constexpr int kMaxRounds = 8;
    for (int round = 0; round < kMaxRounds; ++round) {
        options.relay = &relay;
        ShipOutcome out = ship(runtime, options);
        if (out.relay_ready) {
            if (relay_to_child()) {
                // A new process with a new life: its own watchdog, budget and linger.
                arm_watchdog();
                start = runtime.clock.monotonic();
                ++relays;
                options = fresh;
                options.rows_seen_at = out.rows_seen_at;
                round = -1;
                continue;
            }
            // No fork: let go as a run without a relay would, and leave the
            // rows that come next to a successor.
            relay.lock.reset();
            relay.transport.reset();
            if (auto shipper = shipper_path(); !shipper.empty())
                runtime.spawner.detached(shipper, {}, Reap::by_kernel);
            return 0;
        }
        if (out.status != ShipOutcome::Status::ran || !out.successor_needed) return 0;
        auto used = std::chrono::duration_cast<std::chrono::milliseconds>(runtime.clock.monotonic() - start);
        if (used < kTakeLateRowsUntil) {
            options.budget = kSendBudget - used;  // time left: take the late rows ourselves
            if (out.stepped_aside) options.linger = std::chrono::milliseconds(0);  // and leave the lock to its asker
            continue;
        }
        if (auto shipper = shipper_path(); !shipper.empty()) runtime.spawner.detached(shipper, {}, Reap::by_kernel);
        return 0;
    }
    return 0;
}

}  // namespace arcade::shipper
