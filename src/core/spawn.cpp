#include "core/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace arcade {

std::string shipper_path(const char* self_exe) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(self_exe, buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string self(buf, static_cast<std::size_t>(n));
    auto slash = self.rfind('/');
    if (self.front() != '/' || slash == std::string::npos) return {};
    return self.substr(0, slash + 1) + "arcade-ship";
}

namespace {

// In the child: detach and exec. Only async-signal-safe calls.
[[noreturn]] void become_detached(const char* path, char* const* argv) {
    ::setsid();
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
    }
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(path, argv);
    ::_exit(127);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ARCADE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define ARCADE_SANITIZED 1
#endif
#endif

#ifndef ARCADE_SANITIZED
// What the child of clone_detached needs, with its stack, in one mapping of
// its own. Nothing ever unmaps it: the child may still be reading it after
// this process has returned and exited (it costs a few pages of address
// space in a process that is about to end).
struct CloneBlock {
    static constexpr std::size_t kStack = 64 * 1024;
    const char* path;
    char* const* argv;
};

int clone_child(void* arg) {
    auto* block = static_cast<CloneBlock*>(arg);
    become_detached(block->path, block->argv);
}
#endif

// fork() copies the page tables, and afterwards every page the parent writes
// while it finishes is copied again: ~0.6 ms of a command on these machines.
// A child that shares the parent's memory (CLONE_VM) costs neither; unlike
// vfork (and so posix_spawn), the parent does not wait for its exec. The
// child runs on a stack of its own and reads only a copy of its arguments
// kept in the same private mapping, then execs, which gives it memory of its
// own. All signals are blocked around the clone so no handler of ours runs
// on the child's stack before it resets them. Returns the pid, or -1 when
// this way is unavailable, and the caller forks instead: sanitizer runtimes
// cannot follow such a child, and valgrind (recognised by the preload it
// injects) ends the program at such a clone instead of refusing it.
pid_t clone_detached(const std::string& path, const std::vector<std::string>& args) {
#ifdef ARCADE_SANITIZED
    (void)path;
    (void)args;
    return -1;
#else
    const char* preload = ::getenv("LD_PRELOAD");
    if (preload && std::strstr(preload, "/vgpreload_")) return -1;
    std::size_t strings = path.size() + 1;
    for (const auto& a : args) strings += a.size() + 1;
    std::size_t pointers = (args.size() + 2) * sizeof(char*);
    std::size_t size = CloneBlock::kStack + sizeof(CloneBlock) + pointers + strings;
    void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED) return -1;
    char* base = static_cast<char*>(mem);
    auto* block = reinterpret_cast<CloneBlock*>(base + CloneBlock::kStack);
    auto** argv = reinterpret_cast<char**>(block + 1);
    char* text = reinterpret_cast<char*>(argv + args.size() + 2);
    auto copy = [&text](const std::string& s) {
        char* at = text;
        std::memcpy(at, s.c_str(), s.size() + 1);
        text += s.size() + 1;
        return at;
    };
    argv[0] = copy(path);
    for (std::size_t i = 0; i < args.size(); ++i) argv[i + 1] = copy(args[i]);
    argv[args.size() + 1] = nullptr;
    block->path = argv[0];
    block->argv = argv;

    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = ::clone(clone_child, base + CloneBlock::kStack, CLONE_VM | SIGCHLD, block);
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) ::munmap(mem, size);  // no child: nobody else can be using it
    return pid;
#endif
}

}  // namespace

bool spawn_detached(const std::string& path, const std::vector<std::string>& args, Reap reap, SpawnMethod method) {
    if (reap == Reap::by_kernel) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGCHLD, &ignore, nullptr);
        if (method == SpawnMethod::shared_memory && clone_detached(path, args) > 0) return true;
    }
    // Everything a forked child needs is prepared before fork: after it,
    // only async-signal-safe calls.
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    if (reap == Reap::by_kernel) {
        pid_t pid = ::fork();
        if (pid == 0) become_detached(path.c_str(), argv.data());
        return pid > 0;
    }
    pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
        pid_t grandchild = ::fork();
        if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
        become_detached(path.c_str(), argv.data());
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace arcade
