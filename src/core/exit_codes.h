#pragma once
// The process exit statuses arcade chooses, each named once. A command's run
// function returns one; main returns it.

namespace arcade::exit_code {

inline constexpr int kOk = 0;
// The command ran and failed (a message on stderr says why).
inline constexpr int kFailure = 1;
// The command line could not be parsed (CLI11's usage errors).
inline constexpr int kUsage = 2;
// Interrupted by Ctrl-C: 128 + SIGINT, as shells report it.
inline constexpr int kInterrupted = 130;

}  // namespace arcade::exit_code
