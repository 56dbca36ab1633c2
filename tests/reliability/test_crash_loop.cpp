// Crash loop: the shipper is SIGKILLed at random moments while it drains a
// large queue. A kill can land anywhere: while it starts, between the sink's
// acknowledgement and the journal's `sent` mark, inside a write transaction,
// while it lingers. Nothing may be lost; the only repeats allowed are the
// batch that was in flight when a kill landed.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/paths.h"
#include "reliability.h"
#include "support/posthog_sink.h"

using namespace arcade::reliability;
using namespace arcade::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kTag = "crash_loop";
constexpr std::int64_t kBatch = 1000;     // events per /batch/ request (SPEC §5)
constexpr std::int64_t kBacklog = 8000;   // kept queued, under the 10,000-row pending cap

unsigned seed_from_env() {
    if (const char* s = std::getenv("ARCADE_RELIABILITY_SEED"); s && *s) return static_cast<unsigned>(std::stoul(s));
    return std::random_device{}();
}

// Requests that carried a uuid an earlier accepted request had already
// delivered: the in-flight batches a kill made the next shipper send again.
int resent_batches(const std::vector<ReceivedRequest>& requests) {
    std::set<std::string> seen;
    int resent = 0;
    for (const auto& r : requests) {
        if (r.status_returned < 200 || r.status_returned >= 300) continue;
        bool again = false;
        for (const auto& e : r.events) again |= !seen.insert(event_uuid(e)).second;
        resent += again;
    }
    return resent;
}

}  // namespace

TEST_CASE("crash loop: SIGKILL the shipper at random moments while it drains, and nothing is lost", "[reliability]") {
    const int total = scaled(4000, 20000);
    const int kills = scaled(40, 200);
    const unsigned seed = seed_from_env();
    std::mt19937 rng(seed);
    INFO("seed " << seed << " (ARCADE_RELIABILITY_SEED reproduces the kill moments)");
    auto started = std::chrono::steady_clock::now();

    PostHogSink sink;
    sink.start();
    WorkDir w(sink.url());

    // The test appends as the CLI would; the queue is topped up between
    // kills so the shipper always has a backlog, without reaching the cap.
    std::vector<std::string> produced;
    auto pending_now = [&]() -> std::int64_t {
        if (produced.empty()) return 0;  // no journal yet
        auto c = queue_counts(w.config_dir());
        REQUIRE(c);
        return c->pending;
    };
    auto top_up = [&] {
        auto pending = pending_now();
        int room = static_cast<int>(std::min<std::int64_t>(kBacklog - pending, total - static_cast<std::int64_t>(produced.size())));
        if (room <= 0) return;
        auto more = w.queue_events(room, kTag);
        produced.insert(produced.end(), more.begin(), more.end());
    };

    // Kill moments are uniform in [0, window). The window follows the drain:
    // it widens while deliveries fall behind an even spread over the kills
    // and narrows (never below 100 ms, or most kills would land before the
    // journal is even open) when they run ahead, so kills land all through
    // the drain: startup, mid-request, between acknowledgement and `sent`
    // mark, mid-transaction, lingering.
    double window_ms = 150;
    int landed = 0;
    int drained_at = 0;  // the kill after which every event had been delivered
    std::vector<double> moments;
    for (int k = 0; k < kills; ++k) {
        top_up();
        ProcessSpec spec;
        spec.argv = {ArcadeHome::shipper_binary()};
        spec.env = w.env;
        int pid = start_process(spec);
        std::uniform_real_distribution<double> moment(0, window_ms);
        moments.push_back(moment(rng));
        std::this_thread::sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(moments.back() * 1000)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        landed += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        auto sent = queue_counts(w.config_dir()).value_or(arcade::store::QueueCounts{}).sent;
        if (sent >= total && drained_at == 0) drained_at = k + 1;
        double on_schedule = static_cast<double>(total) * (k + 1) / kills;
        window_ms = static_cast<double>(sent) < on_schedule ? std::min(window_ms * 1.2, 4000.0)
                                                           : std::max(window_ms / 1.2, 100.0);
    }
    std::int64_t sent_under_fire = queue_counts(w.config_dir()).value_or(arcade::store::QueueCounts{}).sent;

    // Whatever is still queued (a backlog the kills never let through, and
    // the rest of the events) goes in undisturbed foreground runs.
    ProcessResult flush;
    for (int round = 0; round <= total / kBacklog + 2; ++round) {
        top_up();
        flush = w.run({"usage", "flush"});
        if (static_cast<int>(produced.size()) == total) break;
    }
    w.settle();

    auto copies = accepted_copies(sink.accepted_events(), {kTag});
    auto journal = snapshot(w.config_dir());
    Tally t = tally(produced, copies, journal);
    int resent = resent_batches(sink.requests());
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::sort(moments.begin(), moments.end());
    FiguresTable table("Crash loop", {"SIGKILLs", "landed on a live shipper", "events produced", "delivered",
                                      "lost", "duplicated by uuid", "batches re-sent", "dead-lettered",
                                      "delivered under fire", "all delivered by kill", "kill moment median / max",
                                      "seed", "wall time"});
    table.add_row({std::to_string(kills), std::to_string(landed), std::to_string(t.produced),
                   std::to_string(t.delivered), std::to_string(t.lost), std::to_string(t.duplicated),
                   std::to_string(resent), std::to_string(journal.count_state("dead", kTag)),
                   std::to_string(sent_under_fire), drained_at ? "#" + std::to_string(drained_at) : "after the loop",
                   fmt_double(moments[moments.size() / 2], 0) + " / " + fmt_double(moments.back(), 0) + " ms",
                   std::to_string(seed), fmt_double(seconds, 1) + " s"});
    table.print();
    add_summary_row("crash loop", std::to_string(total) + " events, " + std::to_string(kills) + " kills", kills, t,
                    std::to_string(landed) + " kills landed; " + std::to_string(resent) + " batches re-sent");

    CHECK(flush.exit_code == 0);
    REQUIRE(journal.readable);
    CHECK(static_cast<int>(produced.size()) == total);
    CHECK(t.lost == 0);
    CHECK(t.delivered == total);
    CHECK(static_cast<std::int64_t>(copies.size()) == total);  // distinct uuids delivered
    CHECK(t.dead == 0);
    CHECK(journal.count_state("pending", kTag) == 0);
    CHECK(journal.counts.dropped == 0);
    // A kill can repeat only the batch in flight when it landed.
    CHECK(resent <= landed);
    CHECK(t.duplicated <= static_cast<std::int64_t>(landed) * kBatch);
}
