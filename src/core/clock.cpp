#include "core/clock.h"

#include <time.h>

namespace arcade {

std::int64_t Clock::now_ms() const {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

MonotonicTime Clock::monotonic() const { return std::chrono::steady_clock::now(); }

const Clock& system_clock() {
    static const Clock clock;
    return clock;
}

}  // namespace arcade
