#include "core/clock.h"

#include <time.h>

namespace arcade {

std::int64_t Clock::now_ms() const {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

double Clock::monotonic_s() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const Clock& system_clock() {
    static const Clock clock;
    return clock;
}

}  // namespace arcade
