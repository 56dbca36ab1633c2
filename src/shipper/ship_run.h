#pragma once
// One shipper run as a unit: check that tracking is on, take ship.lock, open
// the journal, respect (or, for `usage flush`, ignore) the cross-run backoff,
// drain, release the lock and make sure no row appended meanwhile is left
// stranded. Used by `arcade-ship` (detached, hard 10 s limit) and by
// `arcade usage flush` (foreground).

#include <functional>
#include <string>

#include "core/environ.h"
#include "shipper/drain.h"

namespace arcade::shipper {

struct ShipOptions {
    double budget_s = 9.0;          // stop starting requests after this long
    bool ignore_backoff = false;
    int lock_wait_ms = 0;           // how long to wait for another shipper to finish
    // After draining, keep the lock this long and take rows that arrive
    // meanwhile: during a burst of commands, one shipper serves them all
    // instead of every command starting its own.
    int linger_ms = 0;
    std::function<void(const DrainProgress&)> on_progress;
};

struct ShipOutcome {
    enum class Status { ran, tracking_off, no_config, locked_elsewhere, backoff, journal_unusable } status =
        Status::tracking_off;
    std::string reason;
    DrainReport report;
    bool successor_needed = false;  // rows arrived or remain that this run could not take
};

// Never throws.
ShipOutcome ship(const Environ& env, const ShipOptions& options);

// `arcade-ship`'s whole life: arms the watchdog (the process is killed 10 s
// after start whatever happens), ships, and hands over to a successor when
// rows remain that it had no time for. Returns the process exit code.
int shipper_main(const Environ& env);

}  // namespace arcade::shipper
