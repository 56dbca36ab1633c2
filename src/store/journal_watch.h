#pragma once
// What a shipper that holds ship.lock waits on between deliveries: a sign
// that rows may have arrived (the journal's WAL or the set-aside folder
// changed) or that another process wants ship.lock. It only wakes the
// caller; the caller decides by reading the journal, so a missed or
// spurious sign costs latency or a query, never a row.
//
// Two ways of waiting, chosen by the caller (core/tricks.h,
// `watch_for_rows`): inotify on the config dir and the set-aside folder,
// which costs no CPU while nothing happens (`arcade-bench --only session`);
// and the boring twin, a plain poll every kPollInterval. Either way the
// caller is woken at least every kBackstop, for file systems whose
// changes inotify does not see (network mounts).

#include <chrono>

#include "core/paths.h"
#include "core/unique_fd.h"

namespace arcade::store {

class JournalWatch {
public:
    static constexpr std::chrono::milliseconds kPollInterval{50};
    static constexpr std::chrono::milliseconds kBackstop{1000};

    enum class Sign {
        elapsed,      // `at_most` passed without a sign
        maybe_rows,   // look at the journal and the set-aside folder
        lock_wanted,  // someone opened ship.lock to take it (flush, purge, a shipper): step aside
    };

    // With `use_inotify` false, or when inotify cannot be had (no instance
    // left, no such folder), the poll. Never throws.
    JournalWatch(const ConfigPaths& paths, bool use_inotify);

    // Blocks up to `at_most` (and at most kBackstop, or kPollInterval for
    // the poll). Never throws. Not thread-safe.
    Sign wait(std::chrono::milliseconds at_most);

    bool uses_inotify() const { return fd_.valid(); }

private:
    void watch_set_aside();

    ConfigPaths paths_;
    UniqueFd fd_;
    int dir_wd_ = -1;
};

}  // namespace arcade::store
