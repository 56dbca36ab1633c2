#pragma once
// One shipper run as a unit: check that tracking is on, take ship.lock, open
// the journal, respect (or, for `usage flush`, ignore) the cross-run backoff,
// drain, release the lock and make sure no row appended meanwhile is left
// stranded. Used by `arcade-ship` (detached, hard 10 s limit) and by
// `arcade usage flush` (foreground).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/runtime.h"
#include "http/transport.h"
#include "shipper/drain.h"
#include "store/ship_lock.h"

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
// How many times in a row a shipper may hand over to a forked child of its
// own (see Relay): ~5 minutes of someone typing without a pause of ~7 s,
// after which the next command starts a fresh `arcade-ship` again.
inline constexpr int kMaxRelays = 40;

// A relay: a shipper whose life is ending while someone is typing (rows
// arrived while it lingered) does not let go of ship.lock for the next
// command to start a fresh `arcade-ship` (~13 ms of CPU, mostly loading
// libcurl). It forks a child that takes over the lock it still holds, the
// loaded libcurl and its open connection, and exits; the child is a new
// process with its own start and its own 10 s watchdog (SPEC §5 holds for
// each process), and waits for rows only until kLinger after the last ones
// its parent saw, so a chain of relays ends as soon after the last command
// as one shipper would. No SQLite connection crosses the fork: the journal
// is closed first and the child opens it again. ship() fills this in (lock
// and transport) when the run ended ready to relay; the next ship() takes
// them back.
struct Relay {
    // in: asked only when a run could end ready to relay; empty = never.
    std::function<bool()> allowed;
    std::optional<store::ShipLock> lock;          // held across the fork
    std::unique_ptr<http::Transport> transport;  // its connection stays open
};

struct ShipOptions {
    std::chrono::milliseconds budget = kSendBudget;  // stop starting requests after this long
    bool ignore_backoff = false;
    std::chrono::milliseconds lock_wait{0};  // how long to wait for another shipper to finish
    // After draining, keep the lock this long and take rows that arrive meanwhile.
    std::chrono::milliseconds linger{0};
    std::function<void(const DrainProgress&)> on_progress;
    // Only `arcade-ship` relays (shipper_main); nullptr everywhere else.
    Relay* relay = nullptr;
    // A relayed run: when its parent last saw rows arrive. Lingering counts
    // from then (unless this run finds rows at once), not from the fork.
    std::optional<MonotonicTime> rows_seen_at;
};

struct ShipOutcome {
    enum class Status { ran, tracking_off, no_config, locked_elsewhere, backoff, journal_unusable } status =
        Status::tracking_off;
    std::string reason;
    DrainReport report;
    bool successor_needed = false;  // rows arrived or remain that this run could not take
    bool stepped_aside = false;     // stopped lingering because another process wanted ship.lock
    // Rows kept arriving while it lingered and options.relay allowed a relay:
    // the lock (still held) and the transport are in options.relay, the
    // journal is closed, and the caller forks the next shipper.
    bool relay_ready = false;
    MonotonicTime rows_seen_at{};  // with relay_ready: when rows last arrived
};

// Never throws.
ShipOutcome ship(const Runtime& runtime, const ShipOptions& options);

// `arcade-ship`'s whole life: arms the watchdog (the process is killed 10 s
// after start whatever happens), ships, hands over to a forked child while
// someone is typing (Relay), and to a successor when rows remain that it
// had no time for. Returns the process exit code.
int shipper_main(const Runtime& runtime);

}  // namespace arcade::shipper
