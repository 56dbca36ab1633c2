#include "core/runtime.h"

namespace arcade {

const Spawner& system_spawner(const Tricks& tricks) {
    static const SystemSpawner shared(SpawnMethod::shared_memory);
    static const SystemSpawner plain(SpawnMethod::fork);
    return tricks.shared_memory_spawn ? static_cast<const Spawner&>(shared) : plain;
}

Runtime system_runtime(const Environ& env, TransportFactory transport) {
    const Tricks tricks = Tricks::all();
    return Runtime{system_clock(), env, endpoints_from_env(env), std::move(transport), system_spawner(tricks), tricks};
}

}  // namespace arcade
