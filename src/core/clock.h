#pragma once
// Time as the rest of the code sees it: wall-clock milliseconds since the Unix
// epoch (the journal's timestamps) and a monotonic reading for deadlines and
// durations. Tests substitute a fixed clock.

#include <chrono>
#include <cstdint>

namespace arcade {

using MonotonicTime = std::chrono::steady_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now_ms() const;      // wall clock, Unix epoch milliseconds
    virtual MonotonicTime monotonic() const;  // CLOCK_MONOTONIC
};

// A process-wide real clock.
const Clock& system_clock();

// A clock that moves only when told; its monotonic reading follows its wall clock.
class FixedClock : public Clock {
public:
    explicit FixedClock(std::int64_t now_ms) : now_(now_ms) {}
    std::int64_t now_ms() const override { return now_; }
    MonotonicTime monotonic() const override { return MonotonicTime(std::chrono::milliseconds(now_)); }
    void advance(std::chrono::milliseconds by) { now_ += by.count(); }

private:
    std::int64_t now_;
};

}  // namespace arcade
