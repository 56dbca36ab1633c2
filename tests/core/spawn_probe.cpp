// Starts a detached /bin/sh that reports on itself, then exits at once, as
// the CLI does after starting arcade-ship.
// Usage: spawn_probe kernel|init fork|shared_memory FILE
#include <cstring>

#include "core/spawn.h"

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    // One line per child: its pid, its session, where its stdin and stdout go.
    const char* report =
        "read -r _ _ _ _ _ sid _ < /proc/$$/stat; "
        "echo \"$$ $sid $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)\" >> \"$0\"";
    auto reap = std::strcmp(argv[1], "init") == 0 ? arcade::Reap::by_init : arcade::Reap::by_kernel;
    auto method = std::strcmp(argv[2], "shared_memory") == 0 ? arcade::SpawnMethod::shared_memory
                                                             : arcade::SpawnMethod::fork;
    return arcade::spawn_detached("/bin/sh", {"-c", report, argv[3]}, reap, method) ? 0 : 1;
}
