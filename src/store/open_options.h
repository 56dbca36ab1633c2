#pragma once
// How the journal is opened, and how long a write waits for a lock.

#include <chrono>

namespace arcade::store {

// How long a write waits for another process's lock before giving up.
inline constexpr std::chrono::milliseconds kLockWait{3000};
// How long a command's own event waits before it is set aside instead
// (SPEC §7: a locked journal costs a command at most 250 ms).
inline constexpr std::chrono::milliseconds kCommandLockWait{250};

// How long one journal step (an open, a read, a write transaction) may run
// SQLite's own work, on top of its lock wait, before it is interrupted (SPEC
// §7: every telemetry step in the foreground is bounded in time). Far above
// what any step takes on a 10,000-row journal; it only stops what never ends.
inline constexpr std::chrono::milliseconds kStepTimeLimit{2000};

enum class OpenMode { read_write, read_only };

}  // namespace arcade::store
