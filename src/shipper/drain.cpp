#include "shipper/drain.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "core/credentials.h"
#include "core/time_format.h"
#include "shipper/batch.h"
#include "shipper/event_wire.h"
#include "shipper/identity_link.h"

namespace arcade::shipper {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMinRequest{250};  // below this much time left, don't start a request
constexpr milliseconds kRequestTimeout{5000};  // SPEC §5: per request
constexpr std::size_t kMaxPostHogAnswer = 64 * 1024;  // SPEC §7: answers are bounded in size
constexpr milliseconds kIdentityGrace = std::chrono::hours(1);  // SPEC §4: then send anonymous

struct Item {
    std::int64_t seq;
    std::string json;
};

enum class Sent { ok, stop };

class Drainer {
public:
    Drainer(store::Journal& j, http::Transport& t, const Clock& c, const DrainConfig& cfg)
        : journal_(j), transport_(t), clock_(c), cfg_(cfg) {}

    DrainReport run() {
        journal_.fold_set_aside();  // events set aside while another process held the journal
        journal_.enforce_retention();
        identity_ = journal_.identity();
        for (auto& p : journal_.principals_awaiting_alias()) awaiting_alias_.insert(p);
        progress_.pending_at_start = journal_.pending_count();
        std::int64_t after = 0;
        for (;;) {
            std::int64_t top = journal_.last_seq();
            auto rows = journal_.pending(after, kMaxBatchEvents);
            if (rows.empty()) {
                report_.final_scan_top = top;
                break;
            }
            if (cancelled()) break;
            if (remaining() < kMinRequest) {
                report_.out_of_time = true;
                break;
            }
            Batch batch = collect(after, std::move(rows));
            if (batch.items.empty()) {
                after = std::max(batch.next_after, batch.scanned_to);
                continue;
            }
            if (deliver(batch.items) == Sent::stop) break;
            if (batch.alias_for) {
                awaiting_alias_.erase(*batch.alias_for);
                after = 0;  // rows held for this alias may now go
            } else {
                after = batch.next_after;
            }
        }
        report_.remaining = journal_.pending_count();
        try {
            if (!report_.cancelled) record_run();  // a cancelled run says nothing about PostHog
        } catch (const std::exception& e) {
            // The report still says what happened; the backoff could not be kept.
            if (report_.error.empty()) report_.error = std::string("could not record the run: ") + e.what();
        }
        return report_;
    }

private:
    struct Batch {
        std::vector<Item> items;
        std::optional<std::string> alias_for;  // set when the batch is that principal's alias, alone
        std::int64_t next_after = 0;           // where the next scan starts: past rows skipped before the first item
        std::int64_t scanned_to = 0;           // the last row looked at
    };

    // The next request's rows, in journal order, starting with `rows` (the
    // first pending rows after `after`). Rows that must wait are skipped and
    // rows PostHog would refuse are dead-lettered on the way. More rows are
    // read only when such rows left room in the batch, so in the common case
    // each row is read from the journal once.
    Batch collect(std::int64_t after, std::vector<store::StoredEvent> rows) {
        Batch b;
        b.next_after = after;
        b.scanned_to = after;
        std::size_t bytes = 0;
        std::size_t asked = kMaxBatchEvents;
        for (;;) {
            for (auto& row : rows) {
                b.scanned_to = row.seq;
                if (row.needs_identity && !resolve_identity(row)) {
                    if (b.items.empty()) b.next_after = row.seq;
                    continue;
                }
                if (row.kind == "event" && row.distinct_id != row.anon_id && awaiting_alias_.count(row.distinct_id)) {
                    if (b.items.empty()) b.next_after = row.seq;
                    continue;  // waits for its alias to be acknowledged
                }
                std::string json = encode_event(row);
                if (auto reason = rejection_reason(row, json.size()); !reason.empty()) {
                    journal_.mark_dead(row.seq, reason);
                    ++report_.dead;
                    if (b.items.empty()) b.next_after = row.seq;
                    continue;
                }
                if (row.kind == "alias") {
                    if (!b.items.empty()) return b;  // the alias goes alone, after what precedes it
                    b.items.push_back({row.seq, std::move(json)});
                    b.alias_for = row.distinct_id;
                    return b;
                }
                if (b.items.size() == kMaxBatchEvents || bytes + json.size() + 256 > kMaxBatchBytes) return b;
                bytes += json.size() + 1;
                b.items.push_back({row.seq, std::move(json)});
            }
            if (rows.size() < asked || b.items.size() == kMaxBatchEvents) return b;  // end of the queue, or full
            asked = kMaxBatchEvents - b.items.size();
            rows = journal_.pending(b.scanned_to, asked);
            if (rows.empty()) return b;
        }
    }

    milliseconds remaining() const {
        return std::chrono::duration_cast<milliseconds>(cfg_.deadline - clock_.monotonic());
    }

    bool cancelled() {
        if (cfg_.cancel && cfg_.cancel->load()) report_.cancelled = true;
        return report_.cancelled;
    }

    void sleep(milliseconds delay) {
        if (cfg_.sleep) cfg_.sleep(delay);
        else std::this_thread::sleep_for(delay);
    }

    // SPEC §4: returns false when the row must wait (lookup unavailable and
    // the row is under an hour old); otherwise the row's distinct id is final.
    bool resolve_identity(store::StoredEvent& row) {
        std::optional<std::string> principal;
        bool current = identity_ && row.anon_id == identity_->anon_id;
        if (current && identity_->principal_id) {
            principal = identity_->principal_id;
        } else if (current) {
            const PrincipalLookup& found = lookup();
            if (found.outcome == PrincipalLookup::Outcome::found) principal = found.principal_id;
            else if (found.outcome == PrincipalLookup::Outcome::unavailable &&
                     milliseconds(clock_.now_ms() - row.created_ms) < kIdentityGrace)
                return false;
        }
        // Rows from an earlier anonymous id are never given today's principal.
        journal_.resolve_identity({row.seq}, principal);
        row.needs_identity = false;
        if (principal) row.distinct_id = *principal;
        return true;
    }

    const PrincipalLookup& lookup() {
        if (lookup_) return *lookup_;
        lookup_.emplace();
        auto creds = cfg_.paths ? load_credentials(cfg_.paths->credentials()) : std::nullopt;
        if (!creds) {
            lookup_->outcome = PrincipalLookup::Outcome::unauthorized;  // logged out since: stay anonymous
            return *lookup_;
        }
        const std::optional<std::string> asked_for =
            identity_ ? std::optional<std::string>(identity_->anon_id) : std::nullopt;
        *lookup_ = lookup_principal(transport_, cfg_.cloud_url, *creds);
        if (lookup_->outcome == PrincipalLookup::Outcome::found) {
            const std::string principal = lookup_->principal_id;
            // Compare-and-set on the anonymous id: if a logout rotated it
            // during the lookup, this principal must not claim the new one.
            // The link is bound to the login looked up; the journal re-checks,
            // inside its transaction, that it is still the one on disk and
            // rotates an id that is or was linked to someone else first.
            bool linked = journal_.link(
                principal, [&](const store::Identity& before) { return alias_properties(before.anon_id, principal); },
                asked_for, creds->account_identity());
            identity_ = journal_.identity();
            if (linked) awaiting_alias_.insert(principal);
            else if (!identity_ || identity_->principal_id != principal) lookup_->outcome = PrincipalLookup::Outcome::unauthorized;
        }
        return *lookup_;
    }

    struct Posted {
        bool no_time = false;  // stopped without a verdict: deadline reached or cancelled
        Verdict verdict = Verdict::retry;
        http::Response response;
        std::optional<milliseconds> retry_after;
    };

    Posted post(const std::vector<Item>& items) {
        std::vector<const std::string*> events;
        events.reserve(items.size());
        for (const auto& i : items) events.push_back(&i.json);
        std::string host = cfg_.posthog_host;
        while (!host.empty() && host.back() == '/') host.pop_back();
        Posted p;
        for (int attempt = 0;; ++attempt) {
            milliseconds left = remaining();
            if (cancelled()) {
                p.no_time = true;
                return p;
            }
            if (left < kMinRequest) {
                p.no_time = attempt == 0;
                return p;
            }
            http::Request req;
            req.method = "POST";
            req.url = host + "/batch/";
            req.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
            req.body = gzip(batch_body(cfg_.api_key, events, rfc3339_ms(clock_.now_ms())));
            req.timeout = std::min(kRequestTimeout, left - milliseconds(100));
            req.connect_timeout = req.timeout;
            req.cancel = cfg_.cancel;
            // PostHog answers `{"status": 1}` or a short error; anything
            // bigger is kept as an error, not read into memory.
            req.max_body_bytes = kMaxPostHogAnswer;
            p.response = transport_.send(req);
            if (cancelled()) {
                p.no_time = true;
                return p;
            }
            ++report_.requests;
            p.verdict = classify(p.response);
            p.retry_after.reset();
            if (auto ra = p.response.header("retry-after")) p.retry_after = parse_retry_after(*ra, clock_.now_ms());
            if (p.verdict != Verdict::retry || attempt == cfg_.retry.max_retries) return p;
            milliseconds delay = cfg_.retry.next_delay(attempt + 1, p.retry_after);
            if (delay > remaining() - kMinRequest) return p;
            sleep(delay);
            if (cancelled()) {
                p.no_time = true;
                return p;
            }
            ++report_.retries;
        }
    }

    static std::string describe(const http::Response& r) {
        // A transfer that failed midway may carry a status line but no usable body.
        if (r.status == 0 || r.failure != http::Failure::none) return r.error.empty() ? "no response" : r.error;
        std::string body = r.body.substr(0, 200);
        return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    }

    // Before sending, check that an acknowledgement could be recorded: with a
    // full, read-only or locked journal, PostHog would get rows the journal
    // cannot mark sent, and every later run would send them again.
    bool journal_takes_writes(const std::vector<Item>& items) {
        try {
            journal_.note_in_flight(items.front().seq, items.back().seq);
            return true;
        } catch (const std::exception& e) {
            report_.error = std::string("journal not writable, nothing sent: ") + e.what();
            return false;
        }
    }

    // After a 2xx. A full disk can refuse even this small update; emptying
    // the WAL into the database file usually makes room.
    bool record_delivery(const std::vector<std::int64_t>& seqs) {
        for (int attempt = 0; attempt < 4; ++attempt) {
            try {
                journal_.mark_sent(seqs);
                return true;
            } catch (const std::exception& e) {
                report_.error = std::string("PostHog acknowledged events the journal could not mark sent (") +
                                e.what() + "); they will be sent again";
            }
            try {
                journal_.checkpoint();
            } catch (const std::exception&) {
            }
            sleep(milliseconds(50));
        }
        return false;
    }

    Sent deliver(const std::vector<Item>& items) {
        if (!journal_takes_writes(items)) {
            report_.failed = true;
            return Sent::stop;
        }
        Posted p = post(items);
        if (p.no_time) {
            if (!report_.cancelled) report_.out_of_time = true;
            return Sent::stop;
        }
        std::vector<std::int64_t> seqs;
        for (const auto& i : items) seqs.push_back(i.seq);
        switch (p.verdict) {
            case Verdict::delivered:
                if (!record_delivery(seqs)) {
                    report_.failed = true;
                    return Sent::stop;
                }
                report_.delivered += static_cast<std::int64_t>(items.size());
                progress_.delivered = report_.delivered;
                progress_.dead = report_.dead;
                if (cfg_.on_progress) cfg_.on_progress(progress_);
                return Sent::ok;
            case Verdict::split: {
                if (items.size() == 1) {
                    journal_.mark_dead(items[0].seq, "PostHog rejected the event: " + describe(p.response));
                    ++report_.dead;
                    return Sent::ok;
                }
                auto mid = items.begin() + static_cast<std::ptrdiff_t>(items.size() / 2);
                if (deliver(std::vector<Item>(items.begin(), mid)) == Sent::stop) return Sent::stop;
                return deliver(std::vector<Item>(mid, items.end()));
            }
            case Verdict::refused:
                report_.error = "PostHog refused the request (" + describe(p.response) +
                                (p.response.status == 401 || p.response.status == 403
                                     ? "); check the project key (ARCADE_USAGE_POSTHOG_KEY)"
                                     : ")");
                break;
            case Verdict::retry:
                report_.error = "PostHog unreachable (" + describe(p.response) + ")";
                retry_after_floor_ = p.retry_after;
                break;
        }
        report_.failed = true;
        journal_.add_attempt(seqs);
        return Sent::stop;
    }

    void record_run() {
        if (!report_.failed && report_.requests == 0 && report_.delivered == 0) return;
        auto now = clock_.now_ms();
        store::ShipperRecord r = journal_.shipper_record();
        if (report_.requests > 0) r.last_attempt_ms = now;
        if (report_.failed) {
            r.failures += 1;
            milliseconds delay = next_run_delay(r.failures);
            if (retry_after_floor_) delay = std::max(delay, *retry_after_floor_);
            r.next_attempt_ms = now + delay.count();
            r.last_error = report_.error;
        } else {
            r.last_success_ms = now;
            r.failures = 0;
            r.next_attempt_ms.reset();
            r.last_error.reset();
        }
        journal_.save_shipper_record(r);
    }

    store::Journal& journal_;
    http::Transport& transport_;
    const Clock& clock_;
    const DrainConfig& cfg_;
    DrainReport report_;
    DrainProgress progress_;
    std::optional<store::Identity> identity_;
    std::optional<PrincipalLookup> lookup_;
    std::set<std::string> awaiting_alias_;
    std::optional<milliseconds> retry_after_floor_;
};

}  // namespace

DrainReport drain(store::Journal& journal, http::Transport& transport, const Clock& clock, const DrainConfig& config) {
    return Drainer(journal, transport, clock, config).run();
}

}  // namespace arcade::shipper
