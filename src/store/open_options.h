#pragma once
// How the journal is opened, and how long a write waits for a lock.

#include <chrono>

namespace arcade::store {

// How long a write waits for another process's lock before giving up.
inline constexpr std::chrono::milliseconds kLockWait{3000};
// How long a command's own event waits before it is set aside instead
// (SPEC §7: a locked journal costs a command at most 250 ms).
inline constexpr std::chrono::milliseconds kCommandLockWait{250};

enum class OpenMode { read_write, read_only };

}  // namespace arcade::store
