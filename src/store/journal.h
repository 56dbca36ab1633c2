#pragma once
// The usage journal (`usage.db`): a WAL-mode SQLite database that is the
// source of truth for usage events, identity transitions, drop counters,
// persisted settings and shipper bookkeeping. Row and file formats are
// described in docs/JOURNAL.md.
//
// Every write is one BEGIN IMMEDIATE transaction with a busy timeout, so any
// number of processes may use the journal at once. Methods throw
// store::JournalError (never SQLite's own exception type). A Journal object
// is used from one thread at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/paths.h"
#include "store/identity_file.h"
#include "core/tricks.h"
#include "store/open_options.h"

namespace arcade::store {

class JournalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Another process held the write lock for longer than this connection waits.
class JournalBusy : public JournalError {
public:
    using JournalError::JournalError;
};

// Retention bounds (SPEC §5).
struct Retention {
    std::int64_t max_pending = 10000;
    std::chrono::milliseconds pending_max_age = std::chrono::days(30);
    std::chrono::milliseconds sent_keep = std::chrono::days(7);
};

// An event to append; the journal stamps uuid, timestamp and created_ms.
struct NewEvent {
    std::string kind = "event";  // "event" or "alias"
    std::string event;
    std::string distinct_id;
    bool needs_identity = false;
    std::string properties;  // JSON object text
    // When the event happened, if not now (the compliance adapter's capture
    // carries a timestamp); the uuid's time prefix follows it too.
    std::optional<std::int64_t> timestamp_ms;
};

struct StoredEvent {
    std::int64_t seq = 0;
    std::string uuid;
    std::string timestamp;
    std::int64_t created_ms = 0;
    std::string kind;
    std::string event;
    std::string distinct_id;
    std::string anon_id;
    bool needs_identity = false;
    std::string properties;
    std::string state;
    int attempts = 0;
    std::optional<std::string> dead_reason;
};

struct QueueCounts {
    std::int64_t pending = 0;
    std::int64_t sent = 0;
    std::int64_t dead = 0;
    std::int64_t dropped = 0;  // cap + age drops (pruning sent rows is not a loss)
    std::int64_t dropped_cap = 0;
    std::int64_t dropped_age = 0;
    std::int64_t pruned_sent = 0;
    std::optional<std::int64_t> oldest_pending_ms;
};

// The shipper's bookkeeping between runs (settings `ship.*`, docs/JOURNAL.md).
struct ShipperRecord {
    std::optional<std::int64_t> last_attempt_ms;
    std::optional<std::int64_t> last_success_ms;
    std::optional<std::int64_t> next_attempt_ms;  // cross-run backoff: no run before this
    std::optional<std::string> last_error;
    int failures = 0;  // consecutive failed runs
};

struct IdentityTransition {
    std::string transition;  // created | imported | linked | rotated
    Identity identity;
    std::string timestamp;
    std::optional<std::string> reason;  // rotated: logout | credentials_removed | credentials_changed; created: purge
};

// Why an identity was rotated (SPEC §4, `usage status --json` identity.reason).
namespace rotation {
inline constexpr const char* kLogout = "logout";
inline constexpr const char* kCredentialsRemoved = "credentials_removed";
inline constexpr const char* kCredentialsChanged = "credentials_changed";
inline constexpr const char* kPurge = "purge";
}  // namespace rotation

// The identity an event is appended under, after the per-append check of
// usage.json and credentials.yaml (SPEC §4), and whether a login exists.
struct CurrentIdentity : Identity {
    bool logged_in = false;
    // The org and project the login works in (an OAuth login's context), "" when none.
    std::string org_id;
    std::string project_id;
    // The distinct id the event gets: the principal when linked, else the anonymous id.
    const std::string& distinct_id() const { return principal_id ? *principal_id : anon_id; }
    // Logged in but not linked yet: the shipper resolves the row (SPEC §4 rule 4).
    bool needs_identity() const { return !principal_id && logged_in; }
};

// Who is logged in, when the caller knows better than credentials.yaml:
// logout journals its event as the login it has just removed.
// `account_identity` is Credentials::account_identity(); nullopt: no login.
struct LoginOverride {
    std::optional<std::string> account_identity;
    std::string org_id;
    std::string project_id;
};

struct OpenOutcome;

class Journal {
public:
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Opens (creating when read_write) the journal in `paths.dir`, which must
    // already exist, with the connection tricks `tricks` asks for (none by
    // default). Never throws: see OpenOutcome.
    // `lock_wait` bounds every wait for another process's lock, from the
    // first read on (set_lock_wait changes it later).
    static OpenOutcome open(const ConfigPaths& paths, const Clock& clock, OpenMode mode, const Tricks& tricks = {},
                            std::chrono::milliseconds lock_wait = kLockWait);

    // --- identity -------------------------------------------------------
    // The current identity, or nullopt before the first transition.
    std::optional<Identity> identity();
    // Makes sure an identity exists and follows the files, in one write
    // transaction (SPEC §4): a cheap stat of usage.json and credentials.yaml
    // against what the journal last saw, their contents read only when they
    // changed; a changed valid usage.json is adopted (`imported`; a link in it
    // takes the current login's fingerprint), a missing or corrupt one is
    // rebuilt from the journal; a link whose login is gone or replaced is
    // rotated (credentials_removed / credentials_changed). Every append runs
    // this check first, inside its own transaction.
    CurrentIdentity sync_identity(const std::optional<LoginOverride>& login = std::nullopt);
    Identity ensure_identity() { return sync_identity(); }
    // Journals `linked` plus the `$create_alias` row (alias → principal) in one
    // transaction, after the sync_identity check; the link is bound to the
    // fingerprint of `login_account` (Credentials::account_identity of the
    // login the principal was looked up with; nullopt: the current login).
    // An anonymous id that is or was linked to another principal is never
    // aliased: it is rotated first (credentials_changed) and the fresh id is
    // linked. Returns false (and writes nothing) when already linked to
    // `principal`, when either id is one PostHog refuses, when
    // `login_account` is no longer the current login, or when
    // `expected_anon_id` is given and is no longer the current anonymous id
    // (a logout rotated it while the principal was being looked up: the new
    // id belongs to whoever comes next).
    bool link(const std::string& principal, const std::function<std::string(const Identity&)>& alias_properties,
              const std::optional<std::string>& expected_anon_id = std::nullopt,
              const std::optional<std::string>& login_account = std::nullopt);
    // Journals `rotated` for `reason` (rotation::…): a fresh anonymous id, link cleared.
    Identity rotate(const char* reason = rotation::kLogout);
    // Logout, after its own event: rotates (reason logout) when the identity
    // is linked or `removed_credentials`; returns whether it did.
    bool rotate_after_logout(bool removed_credentials);
    // The reason of the last rotation (or of the identity made after a
    // purge), nullopt when there was none.
    std::optional<std::string> last_rotation_reason();
    std::vector<IdentityTransition> identity_history();

    // --- events ---------------------------------------------------------
    // The bounds append() and enforce_retention() apply (default: SPEC §5).
    void set_retention(const Retention& r);

    // Appends one event built from the current identity, in one write
    // transaction with ensure_identity, the set-aside events folded in
    // before it, and the pending cap. `build` may be called more than once
    // if the transaction must be retried. Throws JournalBusy when the lock
    // could not be had in time.
    StoredEvent append(const std::function<NewEvent(const CurrentIdentity&)>& build,
                       const std::optional<LoginOverride>& login = std::nullopt);

    enum class Recorded { appended, set_aside, lost };
    // append(), but when the lock cannot be had in time the event is set
    // aside (store/set_aside.h) with the identity the journal and usage.json
    // show now, for the next writer to fold in. Never throws JournalBusy.
    Recorded append_or_set_aside(const std::function<NewEvent(const CurrentIdentity&)>& build,
                                 const std::optional<LoginOverride>& login = std::nullopt);

    // Folds set-aside events into the journal (the shipper, before it
    // drains). Returns how many it added.
    std::int64_t fold_set_aside();

    // How long writes wait for another process's lock (default kLockWait).
    void set_lock_wait(std::chrono::milliseconds wait);
    // Pending rows after `after_seq` in journal order, at most `limit`.
    std::vector<StoredEvent> pending(std::int64_t after_seq, std::size_t limit);
    // Principals whose `$create_alias` row is still pending: rows carrying
    // them must wait until the alias has been acknowledged.
    std::vector<std::string> principals_awaiting_alias();
    // The highest seq in the journal (0 when empty).
    std::int64_t last_seq();
    // All rows (status --events), newest last, at most `limit`.
    std::vector<StoredEvent> events(std::size_t limit);
    // Marks those of these rows that are still pending as sent (any order;
    // consecutive seqs cost one range update).
    void mark_sent(const std::vector<std::int64_t>& seqs);
    void mark_dead(std::int64_t seq, const std::string& reason);
    void add_attempt(const std::vector<std::int64_t>& seqs);
    // Rewrites those rows' distinct_id to `principal` and clears the mark.
    void resolve_identity(const std::vector<std::int64_t>& seqs, const std::optional<std::string>& principal);

    // --- bounds, counts, settings ----------------------------------------
    // Drops pending rows over the cap or too old, prunes old sent rows; every
    // drop is counted. Returns how many rows it removed.
    std::int64_t enforce_retention();
    QueueCounts counts();
    // Pending rows, from the pending counter (no scan; counts() scans every
    // row's state). Throws JournalError.
    std::int64_t pending_count();
    // `arcade usage disable` is in force.
    bool tracking_disabled();
    // The first-run notice has been shown.
    bool notice_shown();
    // The shipper's bookkeeping between runs, and saving it in one transaction.
    ShipperRecord shipper_record();
    void save_shipper_record(const ShipperRecord& record);
    // shipper_record().next_attempt_ms alone: what every tracked command
    // asks before starting a shipper, one setting read instead of five.
    std::optional<std::int64_t> next_attempt_ms();
    // Records the seq range of the batch about to be sent; the write fails
    // (JournalError) when the journal cannot take writes.
    void note_in_flight(std::int64_t first_seq, std::int64_t last_seq);
    // Sets tracking off (dropping pending rows) or back on.
    void set_tracking_disabled(bool disabled);
    // True once; later calls return false (the first-run notice).
    bool claim_first_run_notice();

    // Deletes every event, set-aside ones included (all: identity too, and
    // usage.json) and scrubs the bytes from the database file, WAL and free
    // pages.
    void purge(bool all);

    // Copies the WAL into the database file and truncates it, then starts a
    // fresh WAL with one small write. Never waits for other connections: if
    // one is busy it does what it can. The shipper calls it when it is done,
    // so the next CLI process neither replays old frames when it opens the
    // journal nor pays the fsyncs a fresh WAL costs (docs/JOURNAL.md).
    void checkpoint();

    // Short-lived writers (the CLI) keep the WAL under `frames` frames: a
    // commit that leaves more runs a truncating checkpoint, without waiting.
    // Every process opening the journal rebuilds its WAL index by reading
    // the whole WAL, so while no shipper runs (offline) an unbounded WAL
    // would make every command slower. Default: SQLite's 1000 pages.
    void limit_wal(int frames);
    // Frames in the WAL after this connection's last commit (0 before any).
    int wal_frames() const;

    std::int64_t schema_version();

private:
    struct Impl;
    explicit Journal(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// For a short-lived process about to open the journal and append: maps in,
// in two system calls, the fresh heap (~100 KiB: SQLite's schema, statements,
// page cache) and the SQLite code the append will touch. On the machines the
// CLI runs on a page fault costs ~12-18 us, so this saves ~0.5 ms of a ~1 ms
// append (docs/PERFORMANCE.md). Best effort; harmless elsewhere.
void prefault_for_append();

// `busy`: another process held the journal locked for longer than it waits.
enum class OpenStatus { ok, newer_schema, busy, unusable };

// The row `ev` becomes at `now_ms` under `id`: uuid (UUIDv7), timestamp,
// pending. What append stores and what set_aside writes.
StoredEvent make_row(NewEvent ev, const Identity& id, std::int64_t now_ms);

struct OpenOutcome {
    OpenStatus status = OpenStatus::unusable;
    std::unique_ptr<Journal> journal;  // set when status == ok
    std::string reason;                // why not, for `usage status` and debug output
};

// The latest schema version this build knows.
int latest_schema_version();

}  // namespace arcade::store
