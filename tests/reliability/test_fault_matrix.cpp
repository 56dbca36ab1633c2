// Fault matrix: one shipper run against each answer PostHog (or the network)
// can give, once (the next request succeeds) and persistently (every request
// in the run gets it), then a `usage flush` against a healthy sink. For each:
// what the run delivered, dead-lettered and kept, how long the shipper lived
// (never 10 s), and whether the recovery lost or repeated anything.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "reliability.h"
#include "shipper_census.h"
#include "shipper/schedule.h"
#include "support/posthog_sink.h"

using namespace arcade::reliability;
using namespace arcade::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kTag = "fault";
constexpr int kEvents = 100;

enum class Expect {
    retried,      // 408, 429, 5xx, network trouble: retried in the run
    refused,      // 401: everything kept, backoff, reason shown
    split,        // 400/413: the batch is split to isolate what PostHog refuses
    poison,       // one event PostHog refuses inside an otherwise good batch
};

struct FaultCase {
    std::string fault;
    std::string step;  // a sink step (parse_step syntax); "" for the poison case
    bool persistent = false;
    Expect expect = Expect::retried;
};

std::vector<FaultCase> fault_cases() {
    std::vector<FaultCase> out;
    auto both = [&](const std::string& fault, const std::string& step, Expect e) {
        out.push_back({fault, step, false, e});
        out.push_back({fault, step, true, e});
    };
    for (const char* code : {"500", "502", "503", "504", "408"}) both(code, code, Expect::retried);
    both("429 + Retry-After: 2", "429:2", Expect::retried);
    out.push_back({"400, poison event in the batch", "", false, Expect::poison});
    both("400", "400", Expect::split);
    both("401", "401", Expect::refused);
    both("413", "413", Expect::split);
    both("no response (hang)", "hang", Expect::retried);
    both("connection reset", "reset", Expect::retried);
    both("1 byte/s response", "slow", Expect::retried);
    return out;
}

std::string short_error(const JournalSnapshot& j) {
    if (!j.shipper.last_error) return "—";
    std::string e = j.shipper.last_error->substr(0, 60);
    for (char& c : e)
        if (c == '|' || c == '\n') c = ' ';
    return e + (j.shipper.last_error->size() > 60 ? "…" : "");
}

}  // namespace

TEST_CASE("fault matrix: every PostHog failure, once and persistent: delivered, dead-lettered, kept, lifetime",
          "[reliability]") {
    FiguresTable table("Fault matrix (" + std::to_string(kEvents) + " queued events per case)",
                       {"fault", "mode", "/batch/ requests", "delivered in the run", "dead-lettered", "kept",
                        "shipper lived", "shippers (longest life)", "backoff set", "last error", "delivered after flush", "lost",
                        "duplicated by uuid"});
    struct Outcome {
        FaultCase c;
        WorkDir::ShipperRun run;
        ShipperCensus::Figures shippers;
        std::size_t requests = 0;
        std::int64_t first_gap_ms = -1;
        std::size_t sent = 0, dead = 0, pending = 0;
        bool backoff = false;
        std::string last_error;
        bool poison_dead = false;
        int flush_exit = -1;
        Tally final;
    };
    std::vector<Outcome> outcomes;
    std::int64_t produced_total = 0, delivered_total = 0, lost_total = 0, dup_total = 0;

    for (const auto& c : fault_cases()) {
        Outcome o;
        o.c = c;
        PostHogSink sink;
        if (!c.step.empty()) sink.script(std::vector<Step>(c.persistent ? 4 * kEvents : 1, parse_step(c.step)));
        sink.start();
        WorkDir w(sink.url());
        std::vector<std::string> produced;
        std::string poison;
        if (c.expect == Expect::poison) {
            produced = w.queue_events(37, kTag);
            poison = queue_poison_event(w.config_dir(), kTag);
            produced.push_back(poison);
            auto rest = w.queue_events(kEvents - 38, kTag);
            produced.insert(produced.end(), rest.begin(), rest.end());
        } else {
            produced = w.queue_events(kEvents, kTag);
        }

        ShipperCensus census(w.path());
        o.run = w.ship();
        // A run out of time hands over to a successor: wait for every shipper.
        census.wait_none_alive(20s);
        w.wait_shipper_idle(kIdleLimit);
        census.stop();
        o.shippers = census.figures();
        auto reqs = sink.requests();
        o.requests = reqs.size();
        if (reqs.size() >= 2) o.first_gap_ms = reqs[1].received_ms - reqs[0].received_ms;
        auto after_run = snapshot(w.config_dir());
        o.sent = after_run.count_state("sent", kTag);
        o.dead = after_run.count_state("dead", kTag);
        o.pending = after_run.count_state("pending", kTag);
        o.backoff = after_run.shipper.next_attempt_ms.has_value();
        o.last_error = short_error(after_run);
        for (const auto& r : after_run.rows)
            if (r.uuid == poison && r.state == "dead" && r.dead_reason && r.dead_reason->find("400") != std::string::npos)
                o.poison_dead = true;

        sink.script({});
        o.flush_exit = w.run({"usage", "flush"}).exit_code;
        w.wait_shipper_idle(kIdleLimit);
        o.final = tally(produced, accepted_copies(sink.accepted_events(), {kTag}), snapshot(w.config_dir()));
        produced_total += o.final.produced;
        delivered_total += o.final.delivered;
        lost_total += o.final.lost;
        dup_total += o.final.duplicated;

        table.add_row({c.fault, c.expect == Expect::poison ? "1 of " + std::to_string(kEvents) : c.persistent ? "persistent" : "once",
                       std::to_string(o.requests), std::to_string(o.sent), std::to_string(o.dead),
                       std::to_string(o.pending),
                       fmt_ms(o.run.lived) + (o.run.exit_code == 0 ? "" : " (exit " + std::to_string(o.run.exit_code) + ")"),
                       std::to_string(o.shippers.started) + (o.shippers.complete ? "" : " (at least)") + " (" + fmt_ms(o.shippers.longest_life) + ")", o.backoff ? "yes" : "no", o.last_error, std::to_string(o.final.delivered),
                       std::to_string(o.final.lost), std::to_string(o.final.duplicated)});
        outcomes.push_back(std::move(o));
    }
    table.print();
    Tally sum;
    sum.produced = produced_total;
    sum.delivered = delivered_total;
    sum.lost = lost_total;
    sum.duplicated = dup_total;
    std::chrono::milliseconds longest{0};
    for (const auto& o : outcomes) longest = std::max({longest, o.run.lived, o.shippers.longest_life});
    add_summary_row("fault matrix", std::to_string(outcomes.size()) + " fault cases", static_cast<std::int64_t>(outcomes.size()), sum,
                    "longest shipper life " + fmt_ms(longest) + "; duplicates only from the 1 byte/s answer");

    for (const auto& o : outcomes) {
        const auto& c = o.c;
        INFO(c.fault << (c.persistent ? " (persistent)" : " (once)"));
        // Whatever the network does, the shipper is gone within 10 s of its
        // start, on its own. Its life is the census's, exec to exit from the
        // kernel's timestamps: "shipper lived" (this process's fork to
        // waitpid) adds the cost of forking this process, up to 85 ms seen
        // under ASan, and grows with the machine's load.
        CHECK(o.run.exit_code == 0);
        CHECK(o.shippers.started >= 1);
        CHECK(o.shippers.alive == 0);
        CHECK(o.shippers.longest_life < 10s);  // successors included
        CHECK(o.shippers.watchdog_kills == 0);
        // Recovery: a healthy flush leaves nothing behind and loses nothing.
        CHECK(o.flush_exit == 0);
        CHECK(o.final.lost == 0);
        CHECK(o.final.kept == 0);
        CHECK(o.final.delivered + o.final.dead == kEvents);
        const bool slow = c.step == "slow";
        const bool slow_path = slow || c.step == "hang";
        if (slow) {
            // The sink took each slow batch before the shipper gave up on its
            // answer: those repeats are in-flight retries, one per attempt.
            CHECK(o.final.duplicated <= static_cast<std::int64_t>(o.requests) * kEvents);
        } else {
            CHECK(o.final.duplicated == 0);
        }
        switch (c.expect) {
            case Expect::retried:
                if (!c.persistent) {
                    CHECK(o.sent == kEvents);
                    CHECK(o.requests == 2);
                    CHECK_FALSE(o.backoff);
                } else {
                    CHECK(o.sent == 0);
                    CHECK(o.pending == kEvents);
                    CHECK(o.backoff);
                    if (slow_path) CHECK(o.requests >= 2);
                    else CHECK(o.requests == 4);  // 3 retries
                }
                if (c.step == "429:2") CHECK(o.first_gap_ms >= 2000);  // Retry-After is a floor
                else if (!slow_path) CHECK(o.first_gap_ms >= 100);
                CHECK(o.dead == 0);
                break;
            case Expect::refused:
                CHECK(o.sent == 0);
                CHECK(o.pending == kEvents);
                CHECK(o.requests == 1);
                CHECK(o.backoff);
                CHECK(o.last_error.find("401") != std::string::npos);
                break;
            case Expect::split:
                if (!c.persistent) {
                    CHECK(o.sent == kEvents);
                    CHECK(o.dead == 0);
                    CHECK(o.requests == 3);
                } else {
                    // Halving down to single events takes up to 2n-1 requests;
                    // what one run has no time for waits for the next.
                    CHECK(o.sent == 0);
                    CHECK(o.dead >= kEvents / 2);
                    CHECK(o.dead + o.pending == kEvents);
                    // A successor starts what is left as one batch again,
                    // repeating at most one request per level of the split.
                    CHECK(o.requests <= 2 * kEvents - 1 + 8 * static_cast<std::size_t>(o.shippers.started - 1));
                }
                break;
            case Expect::poison:
                CHECK(o.poison_dead);
                CHECK(o.dead == 1);
                CHECK(o.sent == kEvents - 1);
                break;
        }
    }
}
