#pragma once
// `ship.lock`: at most one shipper drains at a time. An flock(2) on the file,
// so the lock dies with its holder (kill -9 included) — no time-based lease.

#include <filesystem>

namespace arcade::store {

class ShipLock {
public:
    // Tries once to take the lock; held() says whether it was taken.
    static ShipLock try_acquire(const std::filesystem::path& path);
    // Waits up to `timeout_ms` for the lock.
    static ShipLock acquire(const std::filesystem::path& path, int timeout_ms);
    // True when some process holds the lock right now (takes and drops it when free).
    static bool is_held_elsewhere(const std::filesystem::path& path);

    ShipLock(ShipLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    ShipLock& operator=(ShipLock&& other) noexcept;
    ShipLock(const ShipLock&) = delete;
    ShipLock& operator=(const ShipLock&) = delete;
    ~ShipLock() { release(); }

    bool held() const { return fd_ >= 0; }
    void release();

private:
    explicit ShipLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace arcade::store
