#pragma once
// `ship.lock`: at most one shipper drains at a time. An flock(2) on the file,
// so the lock dies with its holder (kill -9 included) — no time-based lease.

#include <chrono>
#include <filesystem>
#include <string>

namespace arcade::store {

class ShipLock {
public:
    // Tries once to take the lock; held() says whether it was taken, and
    // problem() why not when waiting cannot help (the path is a symlink,
    // which is never followed, or not a regular file). Never blocks.
    static ShipLock try_acquire(const std::filesystem::path& path);
    // Waits up to `timeout` for the lock (not at all when problem() is set).
    static ShipLock acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout);
    // True when an exclusive flock is held on `path` right now, by any open
    // file (this process's included). Reads the kernel's lock table
    // (/proc/locks) and never touches the lock, so a shipper taking it at the
    // same moment is not turned away (every tracked command probes). A
    // missing path, a FIFO or any other non-regular file reads as "not held",
    // without blocking. Never throws.
    static bool is_held_elsewhere(const std::filesystem::path& path);
    // The same, reading `lock_table` (in /proc/locks' format) instead. Where
    // the table cannot be read, or cannot tell this file from another one
    // with the same inode number, it falls back to the boring twin: trying a
    // shared lock for an instant, which briefly takes a free lock.
    static bool is_held_elsewhere(const std::filesystem::path& path, const std::filesystem::path& lock_table);

    // The question a tracked command asks before starting a shipper, asked
    // the cheap way: a shared lock tried for an instant (open, flock, close;
    // a missing path, a symlink or a non-regular file reads as "not held",
    // without blocking). Reading /proc/locks makes the kernel take its
    // file-lock rwsem for writing, which waits for an RCU grace period:
    // 10-20 ms of wall time on these machines whenever nobody read it just
    // before, that is on every command typed seconds apart (the probe was
    // most of such a command's time). The instant's shared lock can turn
    // away a shipper taking the lock at that moment (a new one, or one
    // retaking it between rounds); the caller has then found the lock free
    // and starts a shipper itself, so no row is left waiting. Only for such
    // callers; `usage status` asks is_held_elsewhere. Never throws.
    static bool is_held_quick(const std::filesystem::path& path);

    // Why no shipper can take the lock at `path` as it stands (see
    // try_acquire), or empty. Reads without creating anything; never throws.
    static std::string problem_at(const std::filesystem::path& path);

    // Asks a shipper that holds the lock only to wait for rows to step
    // aside (store::JournalWatch): opens the file for writing and closes it,
    // as a refused try_acquire does, without taking or testing the lock, so
    // no shipper is turned away. For tests and benchmarks that want the
    // journal idle. A missing path or non-regular file is left alone.
    // Never throws.
    static void ask_holder_to_step_aside(const std::filesystem::path& path);

    ShipLock(ShipLock&& other) noexcept : fd_(other.fd_), problem_(std::move(other.problem_)) { other.fd_ = -1; }
    ShipLock& operator=(ShipLock&& other) noexcept;
    ShipLock(const ShipLock&) = delete;
    ShipLock& operator=(const ShipLock&) = delete;
    ~ShipLock() { release(); }

    bool held() const { return fd_ >= 0; }
    // Why the lock could not be taken when that is not another holder.
    const std::string& problem() const { return problem_; }
    // Why the lock was not taken, in words for `usage flush`.
    std::string why_not_held() const { return problem_.empty() ? "another shipper is running" : problem_; }
    void release();

private:
    explicit ShipLock(int fd, std::string problem = {}) : fd_(fd), problem_(std::move(problem)) {}
    int fd_ = -1;
    std::string problem_;
};

}  // namespace arcade::store
