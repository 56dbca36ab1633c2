// Concurrency storm: many processes run the CLI at once, first with the sink
// up, then offline, then back online. Every invocation's event must arrive
// exactly once, usage.json must parse on every read taken during the storm
// (an identity-churn process keeps rewriting it), and no two shippers may
// ever drain at once. The figures include how many shippers the storm
// started per 100 invocations.

#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "reliability.h"
#include "shipper_census.h"
#include "support/posthog_sink.h"

using namespace arcade::reliability;
using namespace arcade::testing;
using namespace std::chrono_literals;

namespace {

struct PhaseFigures {
    std::string name;
    int invocations = 0;
    int failed_workers = 0;  // worker loops that saw a CLI fail or print the wrong thing
    ShipperCensus::Figures shippers;
    int max_concurrent_requests = 0;
    std::int64_t reads = 0;
    std::int64_t bad_reads = 0;
    std::size_t anon_ids_seen = 0;
    std::size_t set_aside_seen = 0;  // events that took the set-aside path (a lower bound)
    double seconds = 0;
};

// Lists the set-aside folder every millisecond and remembers every event
// file it saw: how many commands gave up waiting for the journal's lock.
class SetAsideWatcher {
public:
    explicit SetAsideWatcher(std::filesystem::path dir) : dir_(std::move(dir)) {
        thread_ = std::thread([this] {
            while (!stop_) {
                std::error_code ec;
                for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
                    auto name = e.path().filename().string();
                    if (name.front() != '.') seen_.insert(name);
                }
                std::this_thread::sleep_for(1ms);
            }
        });
    }
    ~SetAsideWatcher() { finish(); }
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::size_t seen() const { return seen_.size(); }  // after finish()

private:
    std::filesystem::path dir_;
    std::atomic<bool> stop_{false};
    std::set<std::string> seen_;
    std::thread thread_;
};

// Reads usage.json as another program would (open, read, parse), as fast as
// it can with a 1 ms pause, until told to stop.
class UsageJsonReader {
public:
    explicit UsageJsonReader(std::filesystem::path path) : path_(std::move(path)) {
        thread_ = std::thread([this] {
            while (!stop_) {
                std::string anon;
                bool ok = valid_usage_json(slurp(path_), &anon);
                ++reads_;
                if (!ok) ++bad_;
                else anon_ids_.insert(anon);
                std::this_thread::sleep_for(1ms);
            }
        });
    }
    ~UsageJsonReader() { finish(); }
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::int64_t reads() const { return reads_; }
    std::int64_t bad() const { return bad_; }
    std::size_t anon_ids() const { return anon_ids_.size(); }

private:
    std::filesystem::path path_;
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> reads_{0}, bad_{0};
    std::set<std::string> anon_ids_;  // touched by the reader thread only until finish()
    std::thread thread_;
};

}  // namespace

TEST_CASE("concurrency: parallel CLIs online, offline and back online: each event once, one shipper at a time",
          "[reliability]") {
    const int procs = scaled(8, 32);
    const int runs = scaled(25, 100);
    const auto started = std::chrono::steady_clock::now();

    PostHogSink sink;
    sink.start();
    WorkDir w(sink.url());
    // The first run creates the identity (usage.json) and shows the notice.
    auto first = w.run({"--version"});
    REQUIRE(first.exit_code == 0);
    const std::string version_line = first.out.substr(0, first.out.find('\n'));
    w.settle();  // its shipper is gone before the storm, so the storm's are all counted
    REQUIRE_FALSE(version_line.empty());
    int invocations = 1;
    std::vector<std::string> accepted;  // across phases (the sink is cleared per phase)
    std::vector<ReceivedRequest> all_requests;

    auto distinct_storm_events = [&] {
        auto now = accepted;
        auto more = sink.accepted_events();
        now.insert(now.end(), more.begin(), more.end());
        return static_cast<int>(accepted_copies(now, {"version", "logout"}).size());
    };

    auto storm = [&](const std::string& name, bool online) {
        PhaseFigures f;
        f.name = name;
        auto t0 = std::chrono::steady_clock::now();
        ShipperCensus census(w.path());
        UsageJsonReader reader(w.config_dir() / "usage.json");
        SetAsideWatcher aside(w.config_dir() / "usage.aside");
        std::vector<int> pids;
        for (int p = 0; p < procs; ++p) {
            ProcessSpec spec;
            spec.argv = {"/bin/sh", "-c",
                         "for i in $(seq " + std::to_string(runs) +
                             "); do out=$(\"$0\" --version) || exit 9; [ \"$out\" = \"$1\" ] || exit 8; done",
                         ArcadeHome::arcade_binary(), version_line};
            spec.env = w.env;
            pids.push_back(start_process(spec));
        }
        // Identity churn: each logout (of an unusable credentials file)
        // rotates the anonymous id, so usage.json is rewritten during the storm.
        ProcessSpec churn;
        churn.argv = {"/bin/sh", "-c",
                      "for i in $(seq " + std::to_string(runs) +
                          "); do printf 'cloud: [' > \"$1/credentials.yaml\"; \"$0\" logout >/dev/null || exit 9; done",
                      ArcadeHome::arcade_binary(), w.config_dir().string()};
        churn.env = w.env;
        pids.push_back(start_process(churn));
        for (int pid : pids) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++f.failed_workers;
        }
        reader.finish();
        aside.finish();
        f.set_aside_seen = aside.seen();
        f.invocations = (procs + 1) * runs;
        invocations += f.invocations;
        if (online) {
            auto deadline = std::chrono::steady_clock::now() + 30s;
            while (distinct_storm_events() < invocations && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(100ms);
        }
        if (online) w.settle();
        else w.wait_shipper_idle(kIdleLimit);
        // Every shipper of the phase has exited before its figures are
        // read (each must within 10 s; the bound only ends a broken run).
        census.wait_none_alive(20s);
        census.stop();
        f.shippers = census.figures();
        f.max_concurrent_requests = sink.max_concurrent_requests();
        auto more = sink.accepted_events();
        accepted.insert(accepted.end(), more.begin(), more.end());
        auto reqs = sink.requests();
        all_requests.insert(all_requests.end(), reqs.begin(), reqs.end());
        sink.clear();
        f.reads = reader.reads();
        f.bad_reads = reader.bad();
        f.anon_ids_seen = reader.anon_ids();
        f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return f;
    };

    std::vector<PhaseFigures> phases;
    phases.push_back(storm("online", true));
    w.set_posthog("");
    phases.push_back(storm("offline", false));
    auto offline_pending = queue_counts(w.config_dir()).value_or(arcade::store::QueueCounts{}).pending;
    // Back online. The failed offline run left a 30 s backoff in force;
    // rather than wait it out, `usage flush` (which ignores it) delivers the
    // offline queue and clears it, as a user would.
    w.set_posthog(sink.url());
    auto flush = w.run({"usage", "flush"});
    w.settle();
    phases.push_back(storm("back online", true));
    w.settle();

    auto more = sink.accepted_events();
    accepted.insert(accepted.end(), more.begin(), more.end());
    auto copies = accepted_copies(accepted, {"version", "logout"});
    auto journal = snapshot(w.config_dir());
    std::vector<std::string> recorded;
    for (const auto& r : journal.rows)
        if (r.properties.find("\"command_name\":\"version\"") != std::string::npos ||
            r.properties.find("\"command_name\":\"logout\"") != std::string::npos)
            recorded.push_back(r.uuid);
    Tally t = tally(recorded, copies, journal);
    // An invocation whose event never reached the journal is lost too.
    const std::int64_t lost_after_recording = t.lost;
    const std::int64_t never_recorded = invocations - static_cast<std::int64_t>(recorded.size());
    t.lost += never_recorded;
    t.produced = invocations;

    FiguresTable table("Concurrency storm",
                       {"phase", "invocations", "failed workers", "shippers started", "per 100 invocations",
                        "most shippers alive at once", "max concurrent /batch/ requests", "longest shipper life",
                        "watchdog kills", "usage.json reads", "unparsable reads", "anon ids seen",
                        "events set aside (seen)", "wall time"});
    int watchdog_kills = 0, total_started = 0;
    for (const auto& f : phases) {
        watchdog_kills += f.shippers.watchdog_kills;
        total_started += f.shippers.started;
        table.add_row({f.name, std::to_string(f.invocations), std::to_string(f.failed_workers),
                       std::to_string(f.shippers.started) + (f.shippers.complete ? "" : " (at least)"),
                       fmt_double(100.0 * f.shippers.started / f.invocations, 1),
                       std::to_string(f.shippers.max_alive), std::to_string(f.max_concurrent_requests),
                       fmt_ms(f.shippers.longest_life), std::to_string(f.shippers.watchdog_kills),
                       std::to_string(f.reads), std::to_string(f.bad_reads), std::to_string(f.anon_ids_seen),
                       std::to_string(f.set_aside_seen), fmt_double(f.seconds, 1) + " s"});
    }
    table.print();
    FiguresTable totals("Concurrency storm: totals",
                        {"processes × invocations", "invocations", "events produced", "delivered", "lost",
                         "of which never recorded", "duplicated by uuid", "repeats", "pending after offline",
                         "census method", "wall time"});
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    totals.add_row({std::to_string(procs) + " × " + std::to_string(runs) + " (+1 churn × " + std::to_string(runs) +
                        ") × 3 phases",
                    std::to_string(invocations), std::to_string(t.produced), std::to_string(t.delivered),
                    std::to_string(t.lost),
                    std::to_string(never_recorded) + " (+" + std::to_string(lost_after_recording) + " recorded, then lost)",
                    std::to_string(t.duplicated), describe_repeats(all_requests),
                    std::to_string(offline_pending),
                    phases[0].shippers.method, fmt_double(seconds, 1) + " s"});
    totals.print();
    std::int64_t reads = 0, bad_reads = 0;
    for (const auto& f : phases) {
        reads += f.reads;
        bad_reads += f.bad_reads;
    }
    add_summary_row("concurrency", std::to_string(procs) + "×" + std::to_string(runs) + " ×3 phases", invocations, t,
                    fmt_double(100.0 * total_started / invocations, 1) + " shippers/100 invocations; " +
                        std::to_string(reads) + " usage.json reads, " + std::to_string(bad_reads) + " bad");

    CHECK(flush.exit_code == 0);
    REQUIRE(journal.readable);
    for (const auto& f : phases) {
        INFO("phase " << f.name);
        CHECK(f.failed_workers == 0);
        CHECK(f.bad_reads == 0);
        CHECK(f.max_concurrent_requests <= 1);  // never two shippers draining at once
        CHECK(f.shippers.alive == 0);  // none still running at the end of the phase
        CHECK(f.shippers.longest_life < 10s);
        CHECK(f.shippers.started >= 1);
    }
    CHECK(phases[0].max_concurrent_requests == 1);
    CHECK(phases[2].max_concurrent_requests == 1);
    CHECK(reads >= 1000);
    CHECK(phases[0].anon_ids_seen > 1);  // the churn really rewrote usage.json while it was read
    CHECK(offline_pending >= (procs + 1) * runs);  // offline, everything waited
    // Whatever reached the journal is delivered...
    CHECK(lost_after_recording == 0);
    CHECK(t.delivered + never_recorded == invocations);
    // ...and every invocation reached the journal.
    // (A command that cannot have the lock within 250 ms sets its event
    // aside; a later writer folds it in: F1, issue 17.)
    CHECK(never_recorded == 0);
    CHECK(journal.counts.pending == 0);
    CHECK(journal.counts.dropped == 0);
    // Repeats are allowed only for a batch in flight when the watchdog fired.
    KNOWN_BUG_CHECK("an acknowledged batch whose `sent` mark cannot be written (journal busy > 3 s) is sent again",
                    t.duplicated <= watchdog_kills * 1000);
}
