#pragma once
// How the journal talks to SQLite: the process-wide settings, opening the
// file in WAL mode, waiting for locks other processes hold, and keeping the
// WAL short. Only src/store/ includes this file (it exposes SQLiteCpp).
// Three of arcade's performance tricks live here (fair_lock_wait,
// trust_wal_header, lean_sqlite_memory in core/tricks.h), each beside its
// plain twin.

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/tricks.h"
#include "store/open_options.h"

namespace arcade::store {

// One SQLite connection to the journal file. Throws SQLite::Exception.
class Connection {
public:
    // Opens `file` without following a symlink. read_write creates it (0600)
    // when missing.
    Connection(const std::filesystem::path& file, OpenMode mode, const Tricks& tricks);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    SQLite::Database& db() { return db_; }

    // For a read_write connection: WAL mode (checked, not assumed),
    // synchronous NORMAL, secure_delete, a persistent WAL that is not
    // checkpointed on close. Returns why not, or empty when ready.
    std::string prepare_for_writes();

    // Whether writes wait for other processes' locks (up to lock_wait) or fail at once.
    void wait_for_locks(bool wait);
    // How long a write waits for another process's lock while the journal
    // shows no progress (default kLockWait). With the fair lock wait, a
    // queue of writers that keeps committing (the WAL changes) is waited
    // for up to kLockWait: only a lock that stays put gives up early.
    void set_lock_wait(std::chrono::milliseconds wait);

    // Starts a step: SQLite's work from now on is interrupted (SQLITE_INTERRUPT)
    // once the lock wait plus `limit` have passed, until the next start_step.
    // The connection starts a step when it opens.
    void start_step(std::chrono::milliseconds limit = kStepTimeLimit);

    // Copies the WAL into the database and truncates it, never waiting for
    // another connection. True when the WAL was emptied.
    bool truncate_wal_without_waiting();

    // A commit that leaves `frames` or more frames in the WAL truncates it
    // (without waiting) instead of SQLite's passive automatic checkpoint.
    void limit_wal(int frames);
    // Frames in the WAL after this connection's last commit (0 before any).
    int wal_frames() const { return wal_frames_; }

private:
    struct FairWait {
        std::string wal_path;                           // watched for commits by others
        std::chrono::milliseconds quiet_limit = kLockWait;  // give up after this long without progress
        std::chrono::steady_clock::time_point first_try;
        std::chrono::steady_clock::time_point last_progress;
        std::int64_t wal_size = -1;
        std::int64_t wal_mtime_ns = -1;
        std::uint32_t random_state = 0;
        static int handler(void* self, int tries);
        // True when the WAL changed since the last look: someone committed.
        bool wal_moved();
    };
    static int on_wal_commit(void* self, sqlite3* handle, const char* schema, int frames);
    static int on_progress(void* self);

    Tricks tricks_;
    bool header_says_wal_ = false;
    SQLite::Database db_;
    FairWait fair_wait_;
    std::chrono::milliseconds lock_wait_ = kLockWait;
    int wal_limit_frames_ = 1000;  // SQLite's default automatic checkpoint
    int wal_frames_ = 0;
    bool truncate_on_limit_ = false;
    std::chrono::steady_clock::time_point step_deadline_;
};

}  // namespace arcade::store
