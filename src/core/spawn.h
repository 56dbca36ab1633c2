#pragma once
// Starting `arcade-ship` without making the CLI wait: a child that shares our
// memory until it execs (no page tables copied, no exec wait as posix_spawn's
// vfork would impose; fork where that is unavailable), then in the child a new
// session, stdio on /dev/null, every other descriptor closed, default signal
// dispositions, exec. See Reap for how the child is kept from lingering as a
// zombie.

#include <string>
#include <sys/types.h>
#include <vector>

namespace arcade {

// The `arcade-ship` beside the running executable.
std::string shipper_path();

// How the detached child is kept from becoming our zombie.
enum class Reap {
    // Ignore SIGCHLD so the kernel reaps it: one fork, the cheapest; changes
    // SIGCHLD for the rest of this process, so only at the end of its work
    // (the CLI starting arcade-ship).
    by_kernel,
    // A short-lived intermediate child forks the real one and exits, so the
    // real one is adopted by init: safe while this process goes on (login
    // opening a browser), at the cost of waiting for that second fork.
    by_init,
};

// Starts `path` with `args` (argv[1..]) detached; false when fork fails.
// Never throws.
bool spawn_detached(const std::string& path, const std::vector<std::string>& args, Reap reap = Reap::by_kernel);

}  // namespace arcade
