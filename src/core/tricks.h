#pragma once
// The performance tricks arcade may use. Each is a choice with a plain twin
// (false), and the plain twins are the defaults: they are what tests get
// unless a test asks for a trick, so both are built and tested. Production
// mains turn the tricks on with Tricks::all(). Each comment names the
// measurement that pays for the trick.

namespace arcade {

struct Tricks {
    // Start arcade-ship with a child that shares our memory until it execs
    // (clone(CLONE_VM), no wait on the exec) instead of fork(), which copies
    // the page tables and then every page the CLI writes while it finishes.
    // `arcade-bench --only spawn`: ~0.08 ms against fork's ~0.3 ms.
    bool shared_memory_spawn = false;
    // Map in, before the append, the fresh heap and the SQLite code it will
    // touch, in two system calls instead of a page fault each.
    // `arcade-bench --only cli` (docs/PERFORMANCE.md, "prefaulting").
    bool prefault_memory = false;
    // Wait for another process's journal lock with a handler that tries
    // every 1-3 ms instead of SQLite's busy timeout, which backs off to
    // 100 ms so a long waiter loses every race to newcomers: the 32-process
    // storm of `scripts/reliability.sh` lost events without it
    // (docs/RELIABILITY.md, F1). It also tells a queue of writers (the WAL
    // keeps changing: wait on, up to 3 s) from a lock that stays put (give
    // up after the command's 250 ms and set the event aside).
    bool fair_lock_wait = false;
    // Trust the journal file's header for WAL mode instead of asking
    // `PRAGMA journal_mode`; SQLite decides the same way.
    // `arcade-bench --only cli`: ~240k instructions of every command.
    bool trust_wal_header = false;
    // Before SQLite initialises: no lookaside arena, no bulk page-cache
    // allocation, no memory statistics, which touch ~150 KiB of fresh pages
    // in a process that writes one row. `arcade-bench --only cli`.
    bool lean_sqlite_memory = false;
    // A shipper waiting for rows (between deliveries, until its life ends)
    // sleeps on inotify instead of polling the journal every 50 ms, so one
    // shipper can serve every command typed within its 10 s for next to no
    // CPU. `arcade-bench --only session` (docs/PERFORMANCE.md).
    bool watch_for_rows = false;

    static constexpr Tricks all() { return Tricks{true, true, true, true, true, true}; }
};

}  // namespace arcade
