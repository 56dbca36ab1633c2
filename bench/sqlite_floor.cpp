// The floor under what tracking can cost: the least a fresh process can do
// to append one row to a WAL-mode SQLite file. arcade-bench runs it paired
// with its "noop" mode (same binary, same libraries loaded, returns at once),
// so the difference is the append alone.
//
//   sqlite-floor noop FILE      return 0
//   sqlite-floor create FILE    create FILE: WAL, one table
//   sqlite-floor reset FILE     empty the WAL, as the shipper does when done
//   sqlite-floor append FILE    open, insert one 600-byte row, commit, close
//   sqlite-floor event FILE     FILE is a journal arcade made (usage.db): open,
//                               insert one event row with 600 bytes of
//                               properties and count it pending, commit, close
//                               (the same floor on arcade's own schema)
//   sqlite-floor event-uncounted FILE   the same without the pending counter
//                               (for variants of the schema that have none)
//   sqlite-floor truncate FILE  empty the WAL of a journal arcade made, as the
//                               shipper does when done
#include <sqlite3.h>

#include <cstring>
#include <string>

namespace {

// How `reset` and `truncate` start: the WAL emptied, as the shipper does when
// done. Each then writes the fresh WAL's first frame (whose header is synced
// then), as the shipper does too, so the next append does not pay that fsync.
constexpr const char* kTruncateWal = "PRAGMA synchronous = NORMAL; PRAGMA wal_checkpoint(TRUNCATE); ";

// One append in its own transaction: `insert` with one 600-byte text bound,
// then `also` (nullptr: nothing) before the commit.
int append_row(sqlite3* db, const char* insert, const char* also) {
    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_stmt* st = nullptr;
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, insert, -1, &st, nullptr);
    char body[600];
    std::memset(body, 'x', sizeof body);
    if (rc == SQLITE_OK) sqlite3_bind_text(st, 1, body, sizeof body, SQLITE_STATIC);
    if (rc == SQLITE_OK && sqlite3_step(st) != SQLITE_DONE) rc = SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && also) rc = sqlite3_exec(db, also, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    std::string mode = argv[1];
    if (mode == "noop") return 0;
    // What arcade's journal does too (src/store/journal.cpp): less memory touched.
    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, static_cast<void*>(nullptr), 0, 0);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | (mode == "create" ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(argv[2], &db, flags, nullptr) != SQLITE_OK) return 3;
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    int persist = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    int rc = SQLITE_OK;
    if (mode == "create") {
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)",
                          nullptr, nullptr, nullptr);
    } else if (mode == "reset") {
        rc = sqlite3_exec(db,
                          (std::string(kTruncateWal) + "DELETE FROM t; INSERT INTO t (body) VALUES ('first frame of the new WAL')")
                              .c_str(),
                          nullptr, nullptr, nullptr);
    } else if (mode == "truncate") {
        rc = sqlite3_exec(db,
                          (std::string(kTruncateWal) +
                           "INSERT OR REPLACE INTO settings (key, value) VALUES ('journal.wal_restarted_ms', '0')")
                              .c_str(),
                          nullptr, nullptr, nullptr);
    } else if (mode == "event" || mode == "event-uncounted") {
        // What any append to arcade's schema must write: the events row (its
        // uuid index, its state index, AUTOINCREMENT's sqlite_sequence) and
        // the pending counter. None of arcade's other work: no identity, no
        // settings, no schema check.
        rc = append_row(db,
                        "INSERT INTO events (uuid, timestamp, created_ms, kind, event, distinct_id, anon_id, properties) "
                        "VALUES (lower(hex(randomblob(16))), '2026-12-03T00:00:00.000Z', 0, 'event', 'cli_command', "
                        "'floor', 'floor', ?)",
                        mode == "event" ? "UPDATE counters SET value = value + 1 WHERE name = 'pending'" : nullptr);
    } else if (mode == "append") {
        rc = append_row(db, "INSERT INTO t (body) VALUES (?)", nullptr);
    } else {
        rc = SQLITE_MISUSE;
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}
