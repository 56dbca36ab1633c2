#include "store/ship_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace arcade::store {
namespace {

std::string not_regular_problem(const std::filesystem::path& path) {
    return path.string() + " is not a regular file: no events can be shipped (remove it)";
}

// What is wrong with the lock file, from the errno its open failed with.
std::string lock_file_problem(const std::filesystem::path& path, int err) {
    if (err == EISDIR) return not_regular_problem(path);
    if (err == ELOOP)
        return path.string() + " is a symbolic link, which arcade never follows: no events can be shipped (remove it)";
    return "cannot open " + path.string() + ": " + std::strerror(err) + ": no events can be shipped";
}

int open_lock_file(const std::filesystem::path& path) {
    // O_NONBLOCK: a FIFO put at the path must not block the open.
    return ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
}

enum class TableAnswer { held, free, unknown };

// Looks `st` up in a lock table in /proc/locks' format, one lock a line:
//   "1: FLOCK  ADVISORY  WRITE 4242 fe:00:5325508 0 EOF"
// (a blocked waiter's line has "->" after the number; READ is a shared lock).
// The kernel names the file "major:minor:inode" of its filesystem, which on
// overlayfs may differ from the device stat() reports: an exclusive flock on
// the same inode number under another device is `unknown`, not `free`.
// Locks of processes outside this /proc's PID namespace are not listed; such
// a shipper is missed, and the one spawned meanwhile finds the lock taken.
TableAnswer table_says(const struct stat& st, const std::filesystem::path& lock_table) {
    int fd = ::open(lock_table.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return TableAnswer::unknown;
    std::string table;
    char buf[8192];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) table.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (n < 0) return TableAnswer::unknown;

    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    const std::string inode = ":" + std::to_string(st.st_ino);
    bool same_inode_elsewhere = false;
    std::string_view rest = table;
    while (!rest.empty()) {
        auto eol = rest.find('\n');
        std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        // Fields: number, [->], FLOCK, ADVISORY, WRITE, pid, dev:inode, …
        std::string_view fields[7];
        std::size_t count = 0;
        for (std::size_t pos = 0; count < 7;) {
            pos = line.find_first_not_of(' ', pos);
            if (pos == std::string_view::npos) break;
            auto end = line.find(' ', pos);
            fields[count++] = line.substr(pos, end - pos);
            if (end == std::string_view::npos) break;
            pos = end;
        }
        if (count < 6 || fields[1] != "FLOCK" || fields[3] != "WRITE") continue;  // a waiter, POSIX or shared lock
        std::string_view file = fields[5];
        if (file == id) return TableAnswer::held;
        if (file.size() > inode.size() && file.substr(file.size() - inode.size()) == inode) same_inode_elsewhere = true;
    }
    return same_inode_elsewhere ? TableAnswer::unknown : TableAnswer::free;
}

// The boring twin: a shared lock is refused while an exclusive one is held.
// Taking it for an instant can turn away a shipper starting at that moment,
// which is why it is only the fallback. O_NONBLOCK: a FIFO put at the path
// must not block the open.
bool shared_lock_refused(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    bool held = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_SH | LOCK_NB) != 0 &&
                errno == EWOULDBLOCK;
    ::close(fd);
    return held;
}

}  // namespace

ShipLock ShipLock::try_acquire(const std::filesystem::path& path) {
    int fd = open_lock_file(path);
    if (fd < 0) return ShipLock(-1, lock_file_problem(path, errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return ShipLock(-1, not_regular_problem(path));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return ShipLock(-1);
    }
    return ShipLock(fd);
}

ShipLock ShipLock::acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        ShipLock lock = try_acquire(path);
        if (lock.held() || !lock.problem().empty() || std::chrono::steady_clock::now() >= deadline) return lock;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

bool ShipLock::is_held_elsewhere(const std::filesystem::path& path) {
    return is_held_elsewhere(path, "/proc/locks");
}

bool ShipLock::is_held_elsewhere(const std::filesystem::path& path, const std::filesystem::path& lock_table) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;  // never shipped here, or not a lock
    switch (table_says(st, lock_table)) {
        case TableAnswer::held: return true;
        case TableAnswer::free: return false;
        case TableAnswer::unknown: break;
    }
    return shared_lock_refused(path);
}

bool ShipLock::is_held_quick(const std::filesystem::path& path) { return shared_lock_refused(path); }

std::string ShipLock::problem_at(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};  // created on first use
    if (S_ISLNK(st.st_mode)) return lock_file_problem(path, ELOOP);
    if (!S_ISREG(st.st_mode)) return not_regular_problem(path);
    return {};
}

void ShipLock::ask_holder_to_step_aside(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) ::close(fd);  // O_NONBLOCK: a FIFO without a reader is refused, never waited on
}

ShipLock& ShipLock::operator=(ShipLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = other.fd_;
        problem_ = std::move(other.problem_);
        other.fd_ = -1;
    }
    return *this;
}

void ShipLock::release() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace arcade::store
