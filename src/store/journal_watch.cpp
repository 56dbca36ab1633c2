#include "store/journal_watch.h"

#include <poll.h>
#include <sys/inotify.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "store/set_aside.h"

namespace arcade::store {
namespace {

// A writer's append is several writes to the WAL, the first of which wakes
// us before the transaction commits; waiting this long after a sign lets
// most appends finish, so one wake sees the row instead of several.
constexpr std::chrono::milliseconds kSettle{3};

// ship.lock's name as inotify reports it. ShipLock::try_acquire opens it for
// writing and closes it when the lock is refused (IN_CLOSE_WRITE); a tracked
// command's probe (ShipLock::is_held_quick) and `usage status`
// (ShipLock::is_held_elsewhere) open it read-only at most, so they do not
// make the shipper step aside.
bool is_lock_attempt(const inotify_event& ev, int dir_wd) {
    return ev.wd == dir_wd && (ev.mask & IN_CLOSE_WRITE) != 0 && ev.len > 0 && std::strcmp(ev.name, "ship.lock") == 0;
}

}  // namespace

JournalWatch::JournalWatch(const ConfigPaths& paths, bool use_inotify) : paths_(paths) {
    if (!use_inotify) return;
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd_.valid()) return;
    // IN_MODIFY: the WAL written (or truncated); IN_CREATE/IN_MOVED_TO: the
    // WAL or the set-aside folder made anew; IN_CLOSE_WRITE: ship.lock tried.
    dir_wd_ = ::inotify_add_watch(fd_.get(), paths_.dir.c_str(),
                                  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
    if (dir_wd_ < 0) {
        fd_.reset();
        return;
    }
    watch_set_aside();
}

void JournalWatch::watch_set_aside() {
    // Adding an existing watch again is a no-op; a missing folder is fine
    // (its creation shows in the config dir's watch).
    ::inotify_add_watch(fd_.get(), set_aside_dir(paths_).c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
}

JournalWatch::Sign JournalWatch::wait(std::chrono::milliseconds at_most) {
    if (at_most <= std::chrono::milliseconds(0)) return Sign::elapsed;
    if (!fd_.valid()) {
        std::this_thread::sleep_for(std::min(at_most, kPollInterval));
        return at_most <= kPollInterval ? Sign::elapsed : Sign::maybe_rows;
    }
    const auto slice = std::min(at_most, kBackstop);
    pollfd pfd{fd_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(slice.count()));
    if (ready == 0) return at_most <= kBackstop ? Sign::elapsed : Sign::maybe_rows;
    if (ready < 0) return Sign::maybe_rows;  // EINTR: look anyway
    std::this_thread::sleep_for(kSettle);
    bool lock_wanted = false;
    alignas(inotify_event) char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
            if (is_lock_attempt(*ev, dir_wd_)) lock_wanted = true;
            at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
    }
    watch_set_aside();
    return lock_wanted ? Sign::lock_wanted : Sign::maybe_rows;
}

}  // namespace arcade::store
