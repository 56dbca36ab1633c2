#pragma once
// Starting `arcade-ship` without making the CLI wait: fork (no exec wait, as
// posix_spawn's vfork would impose), then in the child a new session, stdio on
// /dev/null, every other descriptor closed, default signal dispositions, exec.
// The parent ignores SIGCHLD from then on so the child is reaped by the kernel
// and never lingers as a zombie; call this only at the end of the process's
// work.

#include <string>
#include <vector>

namespace arcade {

// The `arcade-ship` beside the running executable.
std::string shipper_path();

// Starts `path` with `args` (argv[1..]) detached; false when fork fails.
// Never throws.
bool spawn_detached(const std::string& path, const std::vector<std::string>& args);

}  // namespace arcade
