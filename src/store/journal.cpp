#include "store/journal.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string_view>
#include <thread>

#include "core/credentials.h"
#include "core/files.h"
#include "core/prefault.h"
#include "core/hmac_sha256.h"
#include "core/time_format.h"
#include "core/uuid.h"
#include "store/connection.h"
#include "store/migrations.h"
#include "store/schema_check.h"
#include "store/set_aside.h"

namespace arcade::store {

namespace {
constexpr const char* kEventColumns =
    "seq, uuid, timestamp, created_ms, kind, event, distinct_id, anon_id, needs_identity, properties, state, "
    "attempts, dead_reason";

StoredEvent read_event(SQLite::Statement& st) {
    StoredEvent e;
    e.seq = st.getColumn(0).getInt64();
    e.uuid = st.getColumn(1).getString();
    e.timestamp = st.getColumn(2).getString();
    e.created_ms = st.getColumn(3).getInt64();
    e.kind = st.getColumn(4).getString();
    e.event = st.getColumn(5).getString();
    e.distinct_id = st.getColumn(6).getString();
    e.anon_id = st.getColumn(7).getString();
    e.needs_identity = st.getColumn(8).getInt() != 0;
    e.properties = st.getColumn(9).getString();
    e.state = st.getColumn(10).getString();
    e.attempts = st.getColumn(11).getInt();
    if (!st.getColumn(12).isNull()) e.dead_reason = st.getColumn(12).getString();
    return e;
}
}  // namespace

void prefault_for_append() {
    prefault_heap(120 * 1024);
    prefault_library_code(reinterpret_cast<const void*>(&sqlite3_libversion));
}

int latest_schema_version() { return migrations().empty() ? 0 : migrations().back().version; }

// The keys of the `settings` table (docs/JOURNAL.md); nothing outside this
// file names them.
enum class Setting {
    tracking_disabled,
    notice_shown,
    last_attempt_ms,
    last_success_ms,
    last_error,
    next_attempt_ms,
    failures,
    in_flight,
    wal_restarted_ms,
    identity_key,
    files_seen,
    identity_purged,
};

const char* key_of(Setting s) {
    switch (s) {
        case Setting::tracking_disabled: return "tracking_disabled";
        case Setting::notice_shown: return "notice_shown";
        case Setting::last_attempt_ms: return "ship.last_attempt_ms";
        case Setting::last_success_ms: return "ship.last_success_ms";
        case Setting::last_error: return "ship.last_error";
        case Setting::next_attempt_ms: return "ship.next_attempt_ms";
        case Setting::failures: return "ship.failures";
        case Setting::in_flight: return "ship.in_flight";
        case Setting::wal_restarted_ms: return "journal.wal_restarted_ms";
        case Setting::identity_key: return "identity.key";
        case Setting::files_seen: return "identity.files_seen";
        case Setting::identity_purged: return "identity.purged";
    }
    return "";
}

// A whole number stored as text; nullopt when absent or not a number.
std::optional<std::int64_t> as_int(const std::optional<std::string>& text) {
    if (!text || text->empty()) return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
    return value;
}

// SQLite's error as the journal's: JournalBusy when another process held
// the lock for longer than this connection waits.
[[noreturn]] void throw_journal_error(const SQLite::Exception& e) {
    if ((e.getErrorCode() & 0xff) == SQLITE_BUSY) throw JournalBusy(e.what());
    throw JournalError(e.what());
}

// The states a row of `events` can be in (the schema's CHECK constraint).
enum class RowState { pending, sent, dead };

const char* state_name(RowState s) {
    switch (s) {
        case RowState::pending: return "pending";
        case RowState::sent: return "sent";
        case RowState::dead: return "dead";
    }
    return "pending";
}

struct Journal::Impl {
    // Statements prepared once per connection and used again: a lingering
    // shipper drains many times, and preparing was half of each later
    // drain's instructions (callgrind of a shipper delivering a row every
    // 2 s). A command runs each statement once, so it pays what it did.
    struct Cached {
        std::unique_ptr<SQLite::Statement> statement;
        bool busy = false;
    };

    // One use of a statement: when it ends the statement is reset and its
    // bindings cleared, so none stays active between uses (an active
    // statement keeps its read transaction, and the WAL, open). A statement
    // asked for while already in use (a nested call) is prepared afresh.
    class Reused {
    public:
        Reused(Cached* cached, std::unique_ptr<SQLite::Statement> own)
            : cached_(cached), own_(std::move(own)), statement_(cached ? *cached->statement : *own_) {}
        Reused(const Reused&) = delete;
        Reused& operator=(const Reused&) = delete;
        ~Reused() {
            statement_.tryReset();
            try {
                statement_.clearBindings();
            } catch (const SQLite::Exception&) {
            }
            if (cached_) cached_->busy = false;
        }
        SQLite::Statement& operator*() const { return statement_; }

    private:
        Cached* cached_;
        std::unique_ptr<SQLite::Statement> own_;
        SQLite::Statement& statement_;
    };

    // A prepared statement that moves rows from one state to another (or
    // deletes them) and keeps the pending counter right by the number of
    // rows it changed. The caller binds its own parameters from 1 and may
    // run it repeatedly.
    class RowMove {
    public:
        static constexpr std::optional<RowState> kDelete = std::nullopt;
        // UPDATE events SET state = `to`[, `also_set`] WHERE state = `from` AND (`where`),
        // or DELETE FROM events WHERE state = `from` AND (`where`) when `to` is kDelete.
        RowMove(Impl& impl, RowState from, std::optional<RowState> to, std::string_view also_set,
                std::string_view where)
            : impl_(impl), use_(impl.reuse(sql(from, to, also_set, where))), statement_(*use_) {
            if (from != to) {
                if (from == RowState::pending) sign_ = -1;
                else if (to == RowState::pending) sign_ = 1;
            }
        }
        SQLite::Statement& statement() { return statement_; }
        // Runs the statement once; returns the rows it changed.
        std::int64_t run() {
            std::int64_t changed = statement_.exec();
            statement_.reset();
            impl_.bump_counter("pending", sign_ * changed);
            return changed;
        }

    private:
        static std::string sql(RowState from, std::optional<RowState> to, std::string_view also_set,
                               std::string_view where) {
            std::string text = to ? std::string("UPDATE events SET state = '") + state_name(*to) + "'" +
                                        (also_set.empty() ? "" : ", " + std::string(also_set))
                                  : std::string("DELETE FROM events");
            text += std::string(" WHERE state = '") + state_name(from) + "'";
            if (!where.empty()) text += " AND (" + std::string(where) + ")";
            return text;
        }
        Impl& impl_;
        Reused use_;
        SQLite::Statement& statement_;
        std::int64_t sign_ = 0;
    };
    Impl(const ConfigPaths& p, const Clock& c, OpenMode mode, const Tricks& tricks)
        : paths(p), clock(c), connection(p.journal(), mode, tricks), db(connection.db()) {}
    ConfigPaths paths;
    const Clock& clock;
    Connection connection;
    SQLite::Database& db;
    Retention retention;
    std::unordered_map<std::string, Cached> statements;  // finalized before the connection closes (declared after it)

    Reused reuse(const std::string& sql) {
        Cached& cached = statements[sql];
        if (cached.busy) return Reused(nullptr, std::make_unique<SQLite::Statement>(db, sql));
        if (!cached.statement) cached.statement = std::make_unique<SQLite::Statement>(db, sql);
        cached.busy = true;
        return Reused(&cached, nullptr);
    }


    // Runs `fn` inside BEGIN IMMEDIATE; SQLite errors become JournalError.
    template <class Fn>
    auto write(Fn&& fn) {
        connection.start_step();
        try {
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            if constexpr (std::is_void_v<decltype(fn())>) {
                fn();
                check_pending_counter();
                tx.commit();
            } else {
                auto result = fn();
                check_pending_counter();
                tx.commit();
                return result;
            }
        } catch (const SQLite::Exception& e) {
            throw_journal_error(e);
        }
    }

    template <class Fn>
    auto read(Fn&& fn) {
        connection.start_step();
        try {
            return fn();
        } catch (const SQLite::Exception& e) {
            throw_journal_error(e);
        }
    }

    // The current identity row: the last transition, and for a link the
    // fingerprint of the login it is bound to.
    struct IdentityRow {
        std::int64_t seq = 0;
        Identity id;
        std::optional<std::string> login_fp;
    };

    std::optional<IdentityRow> latest_row() {
        auto st_use = reuse("SELECT seq, anon_id, principal_id, login_fp FROM identity ORDER BY seq DESC LIMIT 1");
        SQLite::Statement& st = *st_use;
        if (!st.executeStep()) return std::nullopt;
        IdentityRow row;
        row.seq = st.getColumn(0).getInt64();
        row.id.anon_id = st.getColumn(1).getString();
        if (!st.getColumn(2).isNull()) row.id.principal_id = st.getColumn(2).getString();
        if (!st.getColumn(3).isNull()) row.login_fp = st.getColumn(3).getString();
        return row;
    }

    std::optional<Identity> latest_identity() {
        auto row = latest_row();
        return row ? std::optional<Identity>(row->id) : std::nullopt;
    }

    void insert_transition(const char* transition, const Identity& id,
                           const std::optional<std::string>& login_fp = std::nullopt, const char* reason = nullptr) {
        auto now = clock.now_ms();
        auto st_use = reuse("INSERT INTO identity (uuid, timestamp, transition, anon_id, principal_id, login_fp, reason) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        SQLite::Statement& st = *st_use;
        st.bind(1, uuid_v7(now));
        st.bind(2, rfc3339_ms(now));
        st.bind(3, transition);
        st.bind(4, id.anon_id);
        if (id.principal_id) st.bind(5, *id.principal_id);
        else st.bind(5);
        if (id.principal_id && login_fp) st.bind(6, *login_fp);
        else st.bind(6);
        if (reason) st.bind(7, reason);
        else st.bind(7);
        st.exec();
    }

    // Publishes usage.json for `id`; throwing rolls back the surrounding
    // transaction so journal and file never disagree after a failed write.
    void write_identity_file(const Identity& id) {
        if (!write_file_atomic(paths.usage_json(), format_identity_json(id), 0600))
            throw JournalError("could not write " + paths.usage_json().string());
    }

    // The keyed fingerprint of a login's account identity (SPEC §4): never
    // the secret, and meaningless outside this journal.
    std::string fingerprint(const std::string& account_identity) {
        auto key = get(Setting::identity_key);
        if (!key || key->empty()) {  // a journal whose key went missing: make a new one
            key = uuid_v4() + uuid_v4();
            put(Setting::identity_key, key);
        }
        return to_hex(hmac_sha256(*key, account_identity));
    }

    // What the journal last saw of the shared files: the lstat signatures of
    // usage.json (empty: read it next time) and credentials.yaml, and the
    // fingerprint of the login the latter held ("" for none).
    // Also the login's org and project (telemetry properties), so a
    // command needs no YAML parse while the file is unchanged.
    struct FilesSeen {
        std::string usage;
        std::string credentials;
        std::string login_fp;
        std::string org_id;
        std::string project_id;
        bool operator==(const FilesSeen&) const = default;
    };

    // Stored as the five fields on separate lines (none can hold a newline:
    // usable_credential_text refuses control characters).
    FilesSeen files_seen() {
        FilesSeen seen;
        auto text = get(Setting::files_seen);
        if (!text) return seen;
        std::vector<std::string> parts;
        std::size_t start = 0;
        for (;;) {
            auto nl = text->find('\n', start);
            parts.push_back(text->substr(start, nl == std::string::npos ? std::string::npos : nl - start));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        if (parts.size() != 5) return seen;
        return {parts[0], parts[1], parts[2], parts[3], parts[4]};
    }

    void save_files_seen(const FilesSeen& seen) {
        put(Setting::files_seen, std::optional<std::string>(seen.usage + "\n" + seen.credentials + "\n" + seen.login_fp +
                                                            "\n" + seen.org_id + "\n" + seen.project_id));
    }

    // Whether `anon_id` is or was linked to a principal other than `principal`.
    bool linked_elsewhere(const std::string& anon_id, const std::string& principal) {
        auto st_use = reuse("SELECT 1 FROM identity WHERE anon_id = ? AND principal_id IS NOT NULL "
                            "AND principal_id <> ? LIMIT 1");
        SQLite::Statement& st = *st_use;
        st.bind(1, anon_id);
        st.bind(2, principal);
        return st.executeStep();
    }

    Identity rotate_locked(const char* reason) {
        Identity fresh{uuid_v4(), std::nullopt};
        insert_transition("rotated", fresh, std::nullopt, reason);
        write_identity_file(fresh);
        return fresh;
    }

    // The result of the per-append check; `login_fp` is the current login's
    // fingerprint (nullopt: no login).
    struct Synced {
        CurrentIdentity current;
        std::optional<std::string> login_fp;
    };

    // SPEC §4, inside the caller's write transaction. Costs two lstat calls
    // and one settings read while nothing changed; a file is read only when
    // its signature differs from what the journal last saw. A signature is
    // taken before the content is read, so a file replaced in between is
    // read again next time, never missed.
    Synced sync_identity_locked(const std::optional<LoginOverride>& login = std::nullopt) {
        FilesSeen seen = files_seen();
        const FilesSeen before = seen;
        if (!login) {
            std::string sig = file_signature(paths.credentials());
            if (sig != seen.credentials) {
                auto creds = load_credentials(paths.credentials());
                seen.login_fp = creds ? fingerprint(creds->account_identity()) : "";
                seen.org_id.clear();
                seen.project_id.clear();
                if (creds && creds->oauth && creds->oauth->context) {
                    seen.org_id = creds->oauth->context->org_id;
                    seen.project_id = creds->oauth->context->project_id;
                }
                seen.credentials = is_racy_signature(sig) ? std::string() : sig;
            }
        }
        std::optional<std::string> login_fp;
        if (login) {
            if (login->account_identity) login_fp = fingerprint(*login->account_identity);
        } else if (!seen.login_fp.empty()) {
            login_fp = seen.login_fp;
        }

        bool wrote_file = false;
        auto row = latest_row();
        const std::string usage_sig = file_signature(paths.usage_json());
        if (!row || usage_sig != seen.usage) {
            auto file = read_identity_file(paths.usage_json());
            if (!row && !file) {
                Identity fresh{uuid_v4(), std::nullopt};
                const bool purged = get(Setting::identity_purged).has_value();
                insert_transition("created", fresh, std::nullopt, purged ? rotation::kPurge : nullptr);
                if (purged) put(Setting::identity_purged, std::optional<std::string>());
                write_identity_file(fresh);
                wrote_file = true;
            } else if (!file) {
                write_identity_file(row->id);  // missing, corrupt or a planted symlink: rebuild
                wrote_file = true;
            } else if (!row || *file != row->id) {
                // Another program (the Python CLI shares this file) changed the
                // identity: adopt it. A link it made takes the current login's
                // fingerprint, unless that anonymous id is or was linked to
                // someone else here: then it must not be used for this one.
                insert_transition("imported", *file, login_fp);
                if (file->principal_id && linked_elsewhere(file->anon_id, *file->principal_id)) {
                    rotate_locked(rotation::kCredentialsChanged);
                    wrote_file = true;
                }
            }
            row = latest_row();
        }
        if (row->id.principal_id) {
            if (!login_fp) {
                rotate_locked(rotation::kCredentialsRemoved);
                wrote_file = true;
            } else if (!row->login_fp) {
                // A link from before fingerprints were kept: bound to the login in use now.
                auto bind_use = reuse("UPDATE identity SET login_fp = ? WHERE seq = ?");
                SQLite::Statement& bind = *bind_use;
                bind.bind(1, *login_fp);
                bind.bind(2, row->seq);
                bind.exec();
            } else if (*row->login_fp != *login_fp) {
                rotate_locked(rotation::kCredentialsChanged);
                wrote_file = true;
            }
            if (wrote_file) row = latest_row();
        }
        // After a write of our own the file is read once more next time
        // rather than trusting a signature taken after it.
        seen.usage = wrote_file || is_racy_signature(usage_sig) ? std::string() : usage_sig;
        if (!(seen == before)) save_files_seen(seen);
        Synced out;
        static_cast<Identity&>(out.current) = row->id;
        out.current.logged_in = login_fp.has_value();
        out.current.org_id = login ? login->org_id : seen.org_id;
        out.current.project_id = login ? login->project_id : seen.project_id;
        out.login_fp = login_fp;
        return out;
    }

    Identity ensure_identity_locked() { return sync_identity_locked().current; }

    void bump_counter(const char* name, std::int64_t by) {
        if (by == 0) return;
        auto st_use = reuse("UPDATE counters SET value = value + ? WHERE name = ?");
        SQLite::Statement& st = *st_use;
        st.bind(1, by);
        st.bind(2, name);
        st.exec();
    }

    std::int64_t counter(const char* name) {
        auto st_use = reuse("SELECT value FROM counters WHERE name = ?");
        SQLite::Statement& st = *st_use;
        st.bind(1, name);
        return st.executeStep() ? st.getColumn(0).getInt64() : 0;
    }

    // --- the pending counter ------------------------------------------------
    // `counters.pending` equals the number of pending rows after every
    // transaction, so the cap is checked without a scan. Rows enter
    // 'pending' only through insert_pending() and leave it only through a
    // RowMove; both adjust the counter in the same transaction, and no other
    // statement writes events.state. Debug builds check the count before
    // every commit (check_pending_counter).

    // Inserts one pending row with `insert` (an INSERT INTO events whose
    // state defaults to 'pending'); returns the new pending count.
    // A statement that inserted nothing (INSERT OR IGNORE of a uuid the
    // journal holds) leaves the counter alone.
    std::int64_t insert_pending(SQLite::Statement& insert) {
        if (insert.exec() == 0) return counter("pending");
        auto st_use = reuse("UPDATE counters SET value = value + 1 WHERE name = 'pending' RETURNING value");
        SQLite::Statement& st = *st_use;
        std::int64_t pending = st.executeStep() ? st.getColumn(0).getInt64() : 0;
        while (st.executeStep()) {
        }
        return pending;
    }

    // Inserts `row` as pending unless the journal already holds its uuid (a
    // set-aside event folded twice); returns the pending count.
    std::int64_t insert_row(const StoredEvent& row) {
        auto st_use = reuse("INSERT OR IGNORE INTO events (uuid, timestamp, created_ms, kind, event, distinct_id, "
                            "anon_id, needs_identity, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        SQLite::Statement& st = *st_use;
        st.bind(1, row.uuid);
        st.bind(2, row.timestamp);
        st.bind(3, row.created_ms);
        st.bind(4, row.kind);
        st.bind(5, row.event);
        st.bind(6, row.distinct_id);
        st.bind(7, row.anon_id);
        st.bind(8, row.needs_identity ? 1 : 0);
        st.bind(9, row.properties);
        return insert_pending(st);
    }

    // Moves set-aside events into the journal, in order, inside the caller's
    // write transaction; returns their files, to remove once it commits. An
    // event set aside without a known identity takes the current one.
    std::vector<std::string> fold_set_aside_locked() {
        std::vector<std::string> files;
        struct stat st {};
        if (::lstat(set_aside_dir(paths).c_str(), &st) != 0) return files;  // the usual case: one system call
        for (auto& aside : read_set_aside(paths)) {
            StoredEvent& row = aside.row;
            if (row.anon_id.empty()) {
                Identity id = ensure_identity_locked();
                row.anon_id = id.anon_id;
                row.distinct_id = id.principal_id.value_or(id.anon_id);
            }
            enforce_cap(retention.max_pending, insert_row(row));
            files.push_back(std::move(aside.file));
        }
        return files;
    }

    // Alias rows are never dropped: losing one would break the ordering of
    // identified events behind it.
    std::int64_t enforce_cap(std::int64_t max_pending, std::optional<std::int64_t> pending = std::nullopt) {
        std::int64_t excess = pending.value_or(counter("pending")) - max_pending;
        if (excess <= 0) return 0;
        RowMove drop(*this, RowState::pending, RowMove::kDelete, "",
                     "seq IN (SELECT seq FROM events WHERE state = 'pending' AND kind = 'event' ORDER BY seq LIMIT ?)");
        drop.statement().bind(1, excess);
        std::int64_t removed = drop.run();
        bump_counter("dropped_cap", removed);
        return removed;
    }

    void check_pending_counter() {
#ifndef NDEBUG
        std::int64_t rows = db.execAndGet("SELECT COUNT(*) FROM events WHERE state = 'pending'").getInt64();
        if (rows != counter("pending"))
            throw JournalError("pending counter " + std::to_string(counter("pending")) + " but " +
                               std::to_string(rows) + " pending rows");
#endif
    }

    std::optional<std::string> get(Setting key) { return get(key_of(key)); }

    std::optional<std::string> get(const char* key) {
        auto query = reuse("SELECT value FROM settings WHERE key = ?");
        SQLite::Statement& st = *query;
        st.bind(1, key);
        std::optional<std::string> value;
        if (st.executeStep()) value = st.getColumn(0).getString();
        return value;
    }

    // Sets `key`, or deletes it when `value` is nullopt.
    void put(Setting key, const std::optional<std::string>& value) { put(key_of(key), value); }

    void put(const char* key, const std::optional<std::string>& value) {
        if (value) {
            auto st_use = reuse("INSERT INTO settings (key, value) VALUES (?, ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
            SQLite::Statement& st = *st_use;
            st.bind(1, key);
            st.bind(2, *value);
            st.exec();
        } else {
            auto st_use = reuse("DELETE FROM settings WHERE key = ?");
            SQLite::Statement& st = *st_use;
            st.bind(1, key);
            st.exec();
        }
    }

    void put(Setting key, const std::optional<std::int64_t>& value) {
        put(key, value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt);
    }

    void migrate() {
        write([&] {
            auto version = db.execAndGet("PRAGMA user_version").getInt();
            for (const auto& m : migrations()) {
                if (m.version <= version) continue;
                db.exec(std::string(m.sql));
                db.exec("PRAGMA user_version = " + std::to_string(m.version));
            }
        });
    }
};

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::~Journal() = default;

OpenOutcome Journal::open(const ConfigPaths& paths, const Clock& clock, OpenMode mode, const Tricks& tricks,
                          std::chrono::milliseconds lock_wait) {
    OpenOutcome out;
    try {
        auto impl = std::make_unique<Impl>(paths, clock, mode, tricks);
        impl->connection.set_lock_wait(lock_wait);
        impl->connection.start_step();
        auto& db = impl->db;
        int version = db.execAndGet("PRAGMA user_version").getInt();
        if (version > latest_schema_version()) {
            out.status = OpenStatus::newer_schema;
            out.reason = "journal schema " + std::to_string(version) + " is newer than this arcade understands (" +
                         std::to_string(latest_schema_version()) + ")";
            return out;
        }
        if (mode == OpenMode::read_write) {
            if (auto why = impl->connection.prepare_for_writes(); !why.empty()) {
                out.reason = why;
                return out;
            }
            if (version < latest_schema_version()) impl->migrate();
        } else if (version < latest_schema_version()) {
            out.reason = "journal not initialised yet";
            return out;
        }
        auto read_setting = [&impl](const char* key) { return impl->get(key); };
        SettingRecorder record_setting;
        if (mode == OpenMode::read_write)
            record_setting = [&impl](const char* key, const std::string& value) { impl->put(key, value); };
        if (auto foreign = foreign_schema(db, read_setting, record_setting); !foreign.empty()) {
            out.reason = foreign;
            return out;
        }
        out.status = OpenStatus::ok;
        out.journal.reset(new Journal(std::move(impl)));
    } catch (const SQLite::Exception& e) {
        out.status = (e.getErrorCode() & 0xff) == SQLITE_BUSY ? OpenStatus::busy : OpenStatus::unusable;
        out.reason = std::string(out.status == OpenStatus::busy ? "journal locked by another process: "
                                                                : "journal unusable: ") +
                     e.what();
        out.journal.reset();
    } catch (const JournalBusy& e) {  // a migration's write
        out.status = OpenStatus::busy;
        out.reason = std::string("journal locked by another process: ") + e.what();
        out.journal.reset();
    } catch (const std::exception& e) {
        out.status = OpenStatus::unusable;
        out.reason = std::string("journal unusable: ") + e.what();
        out.journal.reset();
    }
    return out;
}

std::optional<Identity> Journal::identity() {
    return impl_->read([&] { return impl_->latest_identity(); });
}

CurrentIdentity Journal::sync_identity(const std::optional<LoginOverride>& login) {
    return impl_->write([&] { return impl_->sync_identity_locked(login).current; });
}

bool Journal::link(const std::string& principal, const std::function<std::string(const Identity&)>& alias_properties,
                   const std::optional<std::string>& expected_anon_id, const std::optional<std::string>& login_account) {
    return impl_->write([&] {
        auto synced = impl_->sync_identity_locked();
        Identity before = synced.current;
        if (expected_anon_id && before.anon_id != *expected_anon_id) return false;
        // The principal was looked up with a login that is no longer the one on disk.
        if (login_account && synced.login_fp != impl_->fingerprint(*login_account)) return false;
        if (before.principal_id == principal) return false;
        if (!is_usable_distinct_id(principal)) return false;
        // Never alias an anonymous id that is or was linked to someone else
        // (SPEC §4): PostHog would merge two people.
        if (before.principal_id || impl_->linked_elsewhere(before.anon_id, principal))
            before = impl_->rotate_locked(rotation::kCredentialsChanged);
        if (is_refused_distinct_id(before.anon_id)) return false;
        Identity after{before.anon_id, principal};
        impl_->insert_transition("linked", after, synced.login_fp);
        auto now = impl_->clock.now_ms();
        auto st_use = impl_->reuse("INSERT INTO events (uuid, timestamp, created_ms, kind, event, distinct_id, anon_id, "
                                   "needs_identity, properties) VALUES (?, ?, ?, 'alias', '$create_alias', ?, ?, 0, ?)");
        SQLite::Statement& st = *st_use;
        st.bind(1, uuid_v7(now));
        st.bind(2, rfc3339_ms(now));
        st.bind(3, now);
        st.bind(4, principal);
        st.bind(5, before.anon_id);
        st.bind(6, alias_properties(before));
        impl_->insert_pending(st);
        impl_->write_identity_file(after);
        return true;
    });
}

Identity Journal::rotate(const char* reason) {
    return impl_->write([&] { return impl_->rotate_locked(reason); });
}

bool Journal::rotate_after_logout(bool removed_credentials) {
    return impl_->write([&] {
        auto row = impl_->latest_row();
        if (!removed_credentials && (!row || !row->id.principal_id)) return false;
        impl_->rotate_locked(rotation::kLogout);
        return true;
    });
}

std::optional<std::string> Journal::last_rotation_reason() {
    return impl_->read([&] {
        std::optional<std::string> reason;
        auto st_use = impl_->reuse("SELECT reason FROM identity WHERE reason IS NOT NULL ORDER BY seq DESC LIMIT 1");
        SQLite::Statement& st = *st_use;
        if (st.executeStep()) reason = st.getColumn(0).getString();
        else if (impl_->get(Setting::identity_purged)) reason = rotation::kPurge;
        return reason;
    });
}

std::vector<IdentityTransition> Journal::identity_history() {
    return impl_->read([&] {
        std::vector<IdentityTransition> out;
        auto st_use = impl_->reuse("SELECT transition, anon_id, principal_id, timestamp, reason FROM identity ORDER BY seq");
        SQLite::Statement& st = *st_use;
        while (st.executeStep()) {
            IdentityTransition t;
            t.transition = st.getColumn(0).getString();
            t.identity.anon_id = st.getColumn(1).getString();
            if (!st.getColumn(2).isNull()) t.identity.principal_id = st.getColumn(2).getString();
            t.timestamp = st.getColumn(3).getString();
            if (!st.getColumn(4).isNull()) t.reason = st.getColumn(4).getString();
            out.push_back(std::move(t));
        }
        return out;
    });
}

StoredEvent make_row(NewEvent ev, const Identity& id, std::int64_t now_ms) {
    StoredEvent row;
    row.created_ms = now_ms;
    std::int64_t happened = ev.timestamp_ms.value_or(now_ms);
    row.uuid = uuid_v7(happened);
    row.timestamp = rfc3339_ms(happened);
    row.kind = ev.kind;
    row.event = std::move(ev.event);
    row.distinct_id = std::move(ev.distinct_id);
    row.anon_id = id.anon_id;
    row.needs_identity = ev.needs_identity;
    row.properties = std::move(ev.properties);
    row.state = "pending";
    return row;
}

StoredEvent Journal::append(const std::function<NewEvent(const CurrentIdentity&)>& build,
                            const std::optional<LoginOverride>& login) {
    std::vector<std::string> folded;
    StoredEvent row = impl_->write([&] {
        // Set-aside events happened before this one: they go first.
        folded = impl_->fold_set_aside_locked();
        CurrentIdentity id = impl_->sync_identity_locked(login).current;
        StoredEvent r = make_row(build(id), id, impl_->clock.now_ms());
        std::int64_t pending = impl_->insert_row(r);
        r.seq = impl_->db.getLastInsertRowid();
        impl_->enforce_cap(impl_->retention.max_pending, pending);
        return r;
    });
    if (!folded.empty()) remove_set_aside(impl_->paths, folded);
    return row;
}

Journal::Recorded Journal::append_or_set_aside(const std::function<NewEvent(const CurrentIdentity&)>& build,
                                               const std::optional<LoginOverride>& login) {
    try {
        append(build, login);
        return Recorded::appended;
    } catch (const JournalBusy&) {
    }
    // Reading needs no lock in WAL mode. usage.json wins where it differs:
    // it is what the next writer would adopt.
    CurrentIdentity id;
    try {
        if (auto current = identity()) static_cast<Identity&>(id) = *current;
    } catch (const JournalError&) {
    }
    if (auto file = read_identity_file(impl_->paths.usage_json())) static_cast<Identity&>(id) = *file;
    id.logged_in = login ? login->account_identity.has_value()
                         : load_credentials(impl_->paths.credentials()).has_value();
    // Without the journal the link's login cannot be checked; a link whose
    // credentials are gone is at least not carried on.
    if (!id.logged_in) id.principal_id.reset();
    return set_aside(impl_->paths, make_row(build(id), id, impl_->clock.now_ms())) ? Recorded::set_aside
                                                                                    : Recorded::lost;
}

std::int64_t Journal::fold_set_aside() {
    std::vector<std::string> folded;
    std::int64_t before = 0, after = 0;
    impl_->write([&] {
        before = impl_->counter("pending");
        folded = impl_->fold_set_aside_locked();
        after = impl_->counter("pending");
    });
    if (!folded.empty()) remove_set_aside(impl_->paths, folded);
    return after - before;
}

void Journal::set_lock_wait(std::chrono::milliseconds wait) { impl_->connection.set_lock_wait(wait); }

std::vector<std::string> Journal::principals_awaiting_alias() {
    return impl_->read([&] {
        std::vector<std::string> out;
        auto st_use = impl_->reuse("SELECT DISTINCT distinct_id FROM events WHERE state = 'pending' AND kind = 'alias'");
        SQLite::Statement& st = *st_use;
        while (st.executeStep()) out.push_back(st.getColumn(0).getString());
        return out;
    });
}

std::int64_t Journal::last_seq() {
    return impl_->read([&] {
        auto query = impl_->reuse("SELECT COALESCE(MAX(seq), 0) FROM events");
        SQLite::Statement& st = *query;
        return st.executeStep() ? st.getColumn(0).getInt64() : 0;
    });
}

std::vector<StoredEvent> Journal::pending(std::int64_t after_seq, std::size_t limit) {
    return impl_->read([&] {
        std::vector<StoredEvent> out;
        auto st_use = impl_->reuse(std::string("SELECT ") + kEventColumns +
                                   " FROM events WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?");
        SQLite::Statement& st = *st_use;
        st.bind(1, after_seq);
        st.bind(2, static_cast<std::int64_t>(limit));
        while (st.executeStep()) out.push_back(read_event(st));
        return out;
    });
}

std::vector<StoredEvent> Journal::events(std::size_t limit) {
    return impl_->read([&] {
        std::vector<StoredEvent> out;
        auto st_use = impl_->reuse(std::string("SELECT ") + kEventColumns +
                                   " FROM (SELECT * FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq");
        SQLite::Statement& st = *st_use;
        st.bind(1, static_cast<std::int64_t>(limit));
        while (st.executeStep()) out.push_back(read_event(st));
        return out;
    });
}

void Journal::mark_sent(const std::vector<std::int64_t>& seqs) {
    // A batch is nearly always one run of consecutive seqs, so this is one
    // range UPDATE per run (usually one per batch), all in one transaction:
    // cheaper than matching each row against a JSON list of its seqs.
    impl_->write([&] {
        Impl::RowMove sent(*impl_, RowState::pending, RowState::sent, "sent_ms = ?", "seq BETWEEN ? AND ?");
        sent.statement().bind(1, impl_->clock.now_ms());
        for (std::size_t i = 0; i < seqs.size();) {
            std::size_t j = i;
            while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
            sent.statement().bind(2, seqs[i]);
            sent.statement().bind(3, seqs[j]);
            sent.run();
            i = j + 1;
        }
    });
}

void Journal::mark_dead(std::int64_t seq, const std::string& reason) {
    impl_->write([&] {
        Impl::RowMove dead(*impl_, RowState::pending, RowState::dead, "dead_reason = ?", "seq = ?");
        dead.statement().bind(1, reason);
        dead.statement().bind(2, seq);
        dead.run();
    });
}

void Journal::add_attempt(const std::vector<std::int64_t>& seqs) {
    impl_->write([&] {
        auto st_use = impl_->reuse("UPDATE events SET attempts = attempts + 1 WHERE seq = ?");
        SQLite::Statement& st = *st_use;
        for (auto seq : seqs) {
            st.bind(1, seq);
            st.exec();
            st.reset();
        }
    });
}

void Journal::resolve_identity(const std::vector<std::int64_t>& seqs, const std::optional<std::string>& principal) {
    impl_->write([&] {
        auto st_use = impl_->reuse(principal ? "UPDATE events SET distinct_id = ?, needs_identity = 0 WHERE seq = ?"
            : "UPDATE events SET needs_identity = 0 WHERE seq = ?");
        SQLite::Statement& st = *st_use;
        for (auto seq : seqs) {
            int i = 1;
            if (principal) st.bind(i++, *principal);
            st.bind(i, seq);
            st.exec();
            st.reset();
        }
    });
}

void Journal::set_retention(const Retention& r) { impl_->retention = r; }

std::int64_t Journal::enforce_retention() {
    const Retention& r = impl_->retention;
    return impl_->write([&] {
        auto now = impl_->clock.now_ms();
        Impl::RowMove old(*impl_, RowState::pending, Impl::RowMove::kDelete, "", "kind = 'event' AND created_ms < ?");
        old.statement().bind(1, now - r.pending_max_age.count());
        std::int64_t aged = old.run();
        impl_->bump_counter("dropped_age", aged);
        std::int64_t capped = impl_->enforce_cap(r.max_pending);
        Impl::RowMove sent(*impl_, RowState::sent, Impl::RowMove::kDelete, "", "sent_ms < ?");
        sent.statement().bind(1, now - r.sent_keep.count());
        std::int64_t pruned = sent.run();
        impl_->bump_counter("pruned_sent", pruned);
        return aged + capped + pruned;
    });
}

QueueCounts Journal::counts() {
    return impl_->read([&] {
        QueueCounts c;
        auto st_use = impl_->reuse("SELECT state, COUNT(*) FROM events GROUP BY state");
        SQLite::Statement& st = *st_use;
        while (st.executeStep()) {
            std::string state = st.getColumn(0).getString();
            auto n = st.getColumn(1).getInt64();
            if (state == "pending") c.pending = n;
            else if (state == "sent") c.sent = n;
            else if (state == "dead") c.dead = n;
        }
        c.dropped_cap = impl_->counter("dropped_cap");
        c.dropped_age = impl_->counter("dropped_age");
        c.pruned_sent = impl_->counter("pruned_sent");
        c.dropped = c.dropped_cap + c.dropped_age;
        auto oldest_use = impl_->reuse("SELECT created_ms FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1");
        SQLite::Statement& oldest = *oldest_use;
        if (oldest.executeStep()) c.oldest_pending_ms = oldest.getColumn(0).getInt64();
        return c;
    });
}

std::int64_t Journal::pending_count() {
    return impl_->read([&] { return impl_->counter("pending"); });
}

bool Journal::tracking_disabled() {
    return impl_->read([&] { return impl_->get(Setting::tracking_disabled).has_value(); });
}

bool Journal::notice_shown() {
    return impl_->read([&] { return impl_->get(Setting::notice_shown).has_value(); });
}

ShipperRecord Journal::shipper_record() {
    return impl_->read([&] {
        ShipperRecord r;
        r.last_attempt_ms = as_int(impl_->get(Setting::last_attempt_ms));
        r.last_success_ms = as_int(impl_->get(Setting::last_success_ms));
        r.next_attempt_ms = as_int(impl_->get(Setting::next_attempt_ms));
        r.last_error = impl_->get(Setting::last_error);
        r.failures = static_cast<int>(std::clamp<std::int64_t>(as_int(impl_->get(Setting::failures)).value_or(0), 0, 1000));
        return r;
    });
}

std::optional<std::int64_t> Journal::next_attempt_ms() {
    return impl_->read([&] { return as_int(impl_->get(Setting::next_attempt_ms)); });
}

void Journal::save_shipper_record(const ShipperRecord& r) {
    impl_->write([&] {
        impl_->put(Setting::last_attempt_ms, r.last_attempt_ms);
        impl_->put(Setting::last_success_ms, r.last_success_ms);
        impl_->put(Setting::next_attempt_ms, r.next_attempt_ms);
        impl_->put(Setting::last_error, r.last_error);
        impl_->put(Setting::failures, r.failures > 0 ? std::optional<std::int64_t>(r.failures) : std::nullopt);
    });
}

void Journal::note_in_flight(std::int64_t first_seq, std::int64_t last_seq) {
    impl_->write([&] {
        impl_->put(Setting::in_flight, std::to_string(first_seq) + "-" + std::to_string(last_seq));
    });
}

void Journal::set_tracking_disabled(bool disabled) {
    impl_->write([&] {
        if (disabled) {
            impl_->put(Setting::tracking_disabled, std::optional<std::string>("1"));
            Impl::RowMove(*impl_, RowState::pending, Impl::RowMove::kDelete, "", "").run();
        } else {
            impl_->put(Setting::tracking_disabled, std::optional<std::string>());
        }
    });
}

bool Journal::claim_first_run_notice() {
    return impl_->write([&] {
        if (impl_->get(Setting::notice_shown)) return false;
        impl_->put(Setting::notice_shown, std::optional<std::string>("1"));
        return true;
    });
}

void Journal::purge(bool all) {
    impl_->write([&] {
        impl_->db.exec("DELETE FROM events");
        impl_->db.exec("UPDATE counters SET value = 0");
        impl_->db.exec("DELETE FROM settings WHERE key LIKE 'ship.%'");
        if (all) {
            impl_->db.exec("DELETE FROM identity");
            impl_->put(Setting::files_seen, std::optional<std::string>());
            impl_->put(Setting::identity_purged, std::optional<std::string>("1"));
        }
    });
    purge_set_aside(impl_->paths);
    if (all) ::unlink(impl_->paths.usage_json().c_str());
    // secure_delete zeroed the freed pages; VACUUM rebuilds the file without
    // them and the truncating checkpoints leave no old frames in the WAL.
    impl_->read([&] {
        auto checkpoint = [&] {
            for (int i = 0; i < 100; ++i) {
                auto st_use = impl_->reuse("PRAGMA wal_checkpoint(TRUNCATE)");
                SQLite::Statement& st = *st_use;
                if (st.executeStep() && st.getColumn(0).getInt() == 0) return;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            throw JournalError("journal is busy; could not checkpoint");
        };
        checkpoint();
        impl_->db.exec("VACUUM");
        checkpoint();
        return 0;
    });
}

void Journal::checkpoint() {
    if (!impl_->connection.truncate_wal_without_waiting()) return;
    // The first commit into an empty WAL writes its header and fsyncs it and
    // the directory (~8 ms here): pay that now rather than in the next CLI.
    impl_->write([&] { impl_->put(Setting::wal_restarted_ms, std::optional<std::int64_t>(impl_->clock.now_ms())); });
}

void Journal::limit_wal(int frames) { impl_->connection.limit_wal(frames); }

int Journal::wal_frames() const { return impl_->connection.wal_frames(); }

std::int64_t Journal::schema_version() {
    return impl_->read([&] { return impl_->db.execAndGet("PRAGMA user_version").getInt64(); });
}

}  // namespace arcade::store
