#pragma once
// Time as the rest of the code sees it: wall-clock milliseconds since the Unix
// epoch and a monotonic reading in seconds. Tests substitute a fixed clock.

#include <cstdint>

namespace arcade {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now_ms() const;      // wall clock, Unix epoch milliseconds
    virtual double monotonic_s() const;       // CLOCK_MONOTONIC seconds
};

// A process-wide real clock.
const Clock& system_clock();

class FixedClock : public Clock {
public:
    explicit FixedClock(std::int64_t now_ms) : now_(now_ms) {}
    std::int64_t now_ms() const override { return now_; }
    double monotonic_s() const override { return static_cast<double>(now_) / 1000.0; }
    void advance_ms(std::int64_t ms) { now_ += ms; }

private:
    std::int64_t now_;
};

}  // namespace arcade
