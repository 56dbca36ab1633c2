#pragma once
// Starting a detached process (`arcade-ship`, a browser) without making the
// caller wait: in the child a new session, stdio on /dev/null, every other
// descriptor closed, default signal dispositions, exec. See Reap for how the
// child is kept from lingering as a zombie, and SpawnMethod for how it is
// made.

#include <string>
#include <sys/types.h>
#include <vector>

namespace arcade {

// The `arcade-ship` beside the running executable, as an absolute path read
// from `self_exe` (the kernel's link to it); empty when that cannot be read
// (no /proc): never a name the current directory or PATH would resolve.
std::string shipper_path(const char* self_exe = "/proc/self/exe");

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

// How the child is made.
enum class SpawnMethod {
    // fork(): the plain way.
    fork,
    // A child that shares our memory until it execs (no page tables copied,
    // no wait on the exec as posix_spawn's vfork imposes); the trick
    // Tricks::shared_memory_spawn. Falls back to fork where unavailable
    // (sanitizer builds, valgrind) and for Reap::by_init.
    shared_memory,
};

// Starts `path` with `args` (argv[1..]) detached; false when it could not.
// Never throws.
bool spawn_detached(const std::string& path, const std::vector<std::string>& args, Reap reap = Reap::by_kernel,
                    SpawnMethod method = SpawnMethod::fork);

// The seam through which commands and the shipper start processes, so tests
// can see what would have been started.
class Spawner {
public:
    virtual ~Spawner() = default;
    // As spawn_detached. Never throws.
    virtual bool detached(const std::string& path, const std::vector<std::string>& args, Reap reap) const = 0;
};

// spawn_detached with one method.
class SystemSpawner final : public Spawner {
public:
    explicit SystemSpawner(SpawnMethod method) : method_(method) {}
    bool detached(const std::string& path, const std::vector<std::string>& args, Reap reap) const override {
        return spawn_detached(path, args, reap, method_);
    }

private:
    SpawnMethod method_;
};

}  // namespace arcade
