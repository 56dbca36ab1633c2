#pragma once
// How the journal is opened: read-write or read-only, and which performance
// tricks the connection uses. Each trick has a plain twin beside it; both are
// built and tested (tests/store), and each trick's comment names the
// measurement that pays for it.

#include <chrono>

namespace arcade::store {

// How long a write waits for another process's lock before giving up.
inline constexpr std::chrono::milliseconds kLockWait{3000};

struct ConnectionTricks {
    // Wait for locks with a handler that tries every 1-3 ms (random) until
    // kLockWait. Plain twin: SQLite's busy timeout, which backs off to
    // 100 ms between tries, so a process that has waited a while loses every
    // race to newcomers: in the 32-process storm of the reliability suite
    // (`scripts/reliability.sh`, docs/RELIABILITY.md F1) a few commands
    // waited out the whole timeout and dropped their event.
    bool fair_lock_wait = true;
    // Trust the file header (format versions 2/2) for WAL mode instead of
    // asking `PRAGMA journal_mode`; SQLite decides the same way. Plain twin:
    // ask. ~240k instructions of every command (`arcade-bench --only cli`,
    // docs/PERFORMANCE.md).
    bool trust_wal_header = true;
    // Process-wide, before SQLite initialises: no lookaside arena, no bulk
    // page-cache allocation, no memory statistics, which otherwise touch
    // ~150 KiB of fresh pages in a process that writes one row
    // (`arcade-bench --only cli`). Plain twin: SQLite's defaults.
    bool lean_memory = true;
};

enum class OpenMode { read_write, read_only };

}  // namespace arcade::store
