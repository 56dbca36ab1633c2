#pragma once
// One shipper run as a unit: check that tracking is on, take ship.lock, open
// the journal, respect (or, for `usage flush`, ignore) the cross-run backoff,
// drain, release the lock and make sure no row appended meanwhile is left
// stranded. Used by `arcade-ship` (detached, hard 10 s limit) and by
// `arcade usage flush` (foreground).

#include <chrono>
#include <functional>
#include <string>

#include "core/runtime.h"
#include "shipper/drain.h"

namespace arcade::shipper {

// SPEC §5's "exits within 10 s of its start, whatever the network does", and
// the times derived from it. Only kLifetime is the contract; the rest follow.
inline constexpr std::chrono::milliseconds kLifetime{10'000};
// The hard watchdog ends the process a little before the promise.
inline constexpr std::chrono::milliseconds kWatchdog = kLifetime - std::chrono::milliseconds(200);
// No request starts after this: what is left covers the last request's
// own deadline cut (drain caps each request at the time left), the
// checkpoint and the exit.
inline constexpr std::chrono::milliseconds kSendBudget = kWatchdog - std::chrono::milliseconds(1300);
// Rows that arrive while a run ends are taken by the same process while
// it has used less than this; later, a successor gets a full lifetime.
inline constexpr std::chrono::milliseconds kTakeLateRowsUntil = kSendBudget - std::chrono::milliseconds(2500);
// After draining, keep the lock this long for rows appended meanwhile (in
// practice: until a second before the send budget ends, where lingering
// stops): one shipper serves every command typed within its life, instead
// of each typed command starting its own (~15 ms of CPU each,
// `arcade-bench --only session`). Waiting costs next to nothing
// (store::JournalWatch), and the shipper steps aside at once when someone
// else wants ship.lock (`usage flush`, `usage purge`).
inline constexpr std::chrono::milliseconds kLinger = kSendBudget;
// Waiting for another shipper to finish (flush, purge): it is gone by then.
inline constexpr std::chrono::milliseconds kOutwaitShipper = kLifetime + std::chrono::milliseconds(1000);
static_assert(kTakeLateRowsUntil < kSendBudget && kSendBudget < kWatchdog && kWatchdog < kLifetime &&
              kLifetime < kOutwaitShipper);

struct ShipOptions {
    std::chrono::milliseconds budget = kSendBudget;  // stop starting requests after this long
    bool ignore_backoff = false;
    std::chrono::milliseconds lock_wait{0};  // how long to wait for another shipper to finish
    // After draining, keep the lock this long and take rows that arrive meanwhile.
    std::chrono::milliseconds linger{0};
    std::function<void(const DrainProgress&)> on_progress;
};

struct ShipOutcome {
    enum class Status { ran, tracking_off, no_config, locked_elsewhere, backoff, journal_unusable } status =
        Status::tracking_off;
    std::string reason;
    DrainReport report;
    bool successor_needed = false;  // rows arrived or remain that this run could not take
    bool stepped_aside = false;     // stopped lingering because another process wanted ship.lock
};

// Never throws.
ShipOutcome ship(const Runtime& runtime, const ShipOptions& options);

// `arcade-ship`'s whole life: arms the watchdog (the process is killed 10 s
// after start whatever happens), ships, and hands over to a successor when
// rows remain that it had no time for. Returns the process exit code.
int shipper_main(const Runtime& runtime);

}  // namespace arcade::shipper
