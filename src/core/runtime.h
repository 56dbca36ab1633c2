#pragma once
// The runtime seam (leveldb's Env): what a process takes from the machine,
// built once in each main() and passed down: the clock, the environment,
// where the remote services are, how HTTP requests are made, how detached
// processes are started, and which performance tricks to use. Tests build
// their own with fakes.

#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/endpoints.h"
#include "core/environ.h"
#include "core/spawn.h"
#include "core/tricks.h"

namespace arcade::http {
class Transport;
}

namespace arcade {

// Makes a fresh HTTP transport (one per run of requests; see http/transport.h).
using TransportFactory = std::function<std::unique_ptr<http::Transport>()>;

// Borrowed references: what they name outlives every use of the Runtime.
struct Runtime {
    const Clock& clock;
    const Environ& env;
    Endpoints endpoints;  // resolved from `env` once (core/endpoints.h)
    TransportFactory make_transport;
    const Spawner& spawner;
    Tricks tricks;
};

// The spawner Tricks ask for: shared-memory children or plain forks.
const Spawner& system_spawner(const Tricks& tricks);

// What a production main() runs with: the system clock, `env` and the
// endpoints it sets, `transport`, and every trick (Tricks::all()).
Runtime system_runtime(const Environ& env, TransportFactory transport);

}  // namespace arcade
