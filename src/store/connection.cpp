#include "store/connection.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace arcade::store {
namespace {

void configure_lean_memory_once() {
    // Must precede sqlite3_initialize(); if something initialised SQLite
    // first these calls are refused and the defaults stay, which is harmless.
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
        sqlite3_config(SQLITE_CONFIG_PAGECACHE, static_cast<void*>(nullptr), 0, 0);
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)done;
}

// True when the database header (its first 100 bytes) marks the file as a
// WAL database: read and write format versions both 2.
bool file_header_says_wal(int fd) {
    unsigned char header[100];
    if (::pread(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) return false;
    return std::memcmp(header, "SQLite format 3", 16) == 0 && header[18] == 2 && header[19] == 2;
}

// Opens the file ourselves before SQLite does: read_write creates it (0600
// whatever the umask, never through a symlink), so the -wal and -shm SQLite
// derives from it are private too. Either mode refuses anything but a
// regular file without blocking (O_NONBLOCK: SQLite's own open of a FIFO
// would wait for a writer for ever). Reads the header on the way. Throws
// when it cannot be opened or is not a regular file.
bool create_private(const std::filesystem::path& file, OpenMode mode, const Tricks& tricks) {
    if (tricks.lean_sqlite_memory) configure_lean_memory_once();
    int flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (mode == OpenMode::read_write ? O_RDWR | O_CREAT : O_RDONLY);
    int fd = ::open(file.c_str(), flags, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error(file.string() + " is not a regular file");
    }
    bool wal = mode == OpenMode::read_write && file_header_says_wal(fd);
    ::close(fd);
    return wal;
}

int open_flags(OpenMode mode) {
    return SQLite::OPEN_NOFOLLOW | (mode == OpenMode::read_write ? SQLite::OPEN_READWRITE : SQLite::OPEN_READONLY);
}

}  // namespace

bool Connection::FairWait::wal_moved() {
    struct stat st {};
    std::int64_t size = -1, mtime = -1;
    if (::stat(wal_path.c_str(), &st) == 0) {
        size = st.st_size;
        mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    bool moved = size != wal_size || mtime != wal_mtime_ns;
    wal_size = size;
    wal_mtime_ns = mtime;
    return moved;
}

// Writers that queue behind one another keep the WAL changing; a lock held
// by a transaction that does not commit (a sqlite3 shell, a backup) leaves
// it still. So the wait gives up after quiet_limit without a change, and
// after kLockWait whatever happens: in the 32-process storm of the
// reliability suite a plain 250 ms limit set ~1% of events aside merely
// because writers queued.
int Connection::FairWait::handler(void* self, int tries) {
    auto* wait = static_cast<FairWait*>(self);
    auto now = std::chrono::steady_clock::now();
    if (tries == 0) {
        wait->first_try = now;
        wait->last_progress = now;
        wait->wal_moved();
    } else if (wait->wal_moved()) {
        wait->last_progress = now;
    }
    if (now - wait->first_try >= std::max(wait->quiet_limit, kLockWait) ||
        now - wait->last_progress >= wait->quiet_limit)
        return 0;
    std::uint32_t x = wait->random_state ? wait->random_state : static_cast<std::uint32_t>(::getpid()) | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    wait->random_state = x;
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + x % 2000));
    return 1;
}

Connection::Connection(const std::filesystem::path& file, OpenMode mode, const Tricks& tricks)
    : tricks_(tricks), header_says_wal_(create_private(file, mode, tricks)), db_(file, open_flags(mode)) {
    fair_wait_.wal_path = file.string() + "-wal";
    wait_for_locks(true);
    start_step();
    // Every 1000 virtual-machine instructions (~10 µs of SQLite's work): a
    // clock read is noise at that rate, and a runaway statement (a trigger
    // another program planted, with an endless recursive CTE) stops in time.
    sqlite3_progress_handler(db_.getHandle(), 1000, &Connection::on_progress, this);
}

void Connection::start_step(std::chrono::milliseconds limit) {
    // The fair wait gives a queue of writers up to kLockWait however short lock_wait_ is.
    const auto wait = tricks_.fair_lock_wait ? std::max(lock_wait_, kLockWait) : lock_wait_;
    step_deadline_ = std::chrono::steady_clock::now() + wait + limit;
}

int Connection::on_progress(void* self) {
    return std::chrono::steady_clock::now() > static_cast<Connection*>(self)->step_deadline_ ? 1 : 0;
}

Connection::~Connection() = default;

std::string Connection::prepare_for_writes() {
    // WAL is a persistent property of the file; setting it again costs as
    // much as the rest of opening the journal.
    std::string mode = tricks_.trust_wal_header && header_says_wal_
                           ? "wal"
                           : db_.execAndGet("PRAGMA journal_mode").getString();
    if (mode != "wal") mode = db_.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") return "journal could not be put in WAL mode (got " + mode + ")";
    // NORMAL in WAL mode: a commit survives a crash of the process; only a
    // power loss can take the last commits (docs/JOURNAL.md).
    db_.exec("PRAGMA synchronous = NORMAL");
    // Each CLI process is usually the journal's last connection. By default
    // it would checkpoint and delete the WAL on close and the next process
    // recreate it: four fsyncs per command. Keep the WAL and leave
    // checkpoints to the shipper and to the WAL limit.
    sqlite3_db_config(db_.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    int persist = 1;
    sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    db_.exec("PRAGMA secure_delete = ON");
    sqlite3_wal_hook(db_.getHandle(), &Connection::on_wal_commit, this);
    return {};
}

void Connection::wait_for_locks(bool wait) {
    sqlite3* h = db_.getHandle();
    if (!wait) sqlite3_busy_handler(h, nullptr, nullptr);
    else if (tricks_.fair_lock_wait) sqlite3_busy_handler(h, &FairWait::handler, &fair_wait_);
    else sqlite3_busy_timeout(h, static_cast<int>(lock_wait_.count()));
}

void Connection::set_lock_wait(std::chrono::milliseconds wait) {
    lock_wait_ = wait;
    fair_wait_.quiet_limit = wait;
    wait_for_locks(true);
}

// Replaces SQLite's automatic checkpoint (which is itself a WAL hook) so the
// frame count is known and a short-lived writer can truncate instead.
int Connection::on_wal_commit(void* self, sqlite3* handle, const char* schema, int frames) {
    auto* c = static_cast<Connection*>(self);
    c->wal_frames_ = frames;
    if (frames >= c->wal_limit_frames_) {
        if (c->truncate_on_limit_) c->truncate_wal_without_waiting();
        else sqlite3_wal_checkpoint_v2(handle, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
}

// Holds the writer lock only for a moment: the copying and its fsyncs run
// first as a PASSIVE checkpoint (no writer lock; holding it through them
// stalled a 32-process storm past writers' lock wait), and only a WAL copied
// in full is then truncated, with waiting off.
bool Connection::truncate_wal_without_waiting() {
    sqlite3* h = db_.getHandle();
    int log = -1, done = -1;
    if (sqlite3_wal_checkpoint_v2(h, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done) != SQLITE_OK || log != done)
        return false;
    wait_for_locks(false);
    int rc = sqlite3_wal_checkpoint_v2(h, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    wait_for_locks(true);
    if (rc == SQLITE_OK) wal_frames_ = 0;
    return rc == SQLITE_OK;
}

void Connection::limit_wal(int frames) {
    wal_limit_frames_ = frames > 0 ? frames : 1000;
    truncate_on_limit_ = true;
}

}  // namespace arcade::store
