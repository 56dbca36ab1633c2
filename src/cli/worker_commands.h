#pragma once
// `arcade worker` (alias `arcade server`): list, enable, disable, rm and logs
// over the Arcade Engine and Cloud worker APIs (src/worker_api/). Each leaf is
// registered in the CommandTable; the tracking wrapper names its event from
// the canonical names, so `arcade server list` is `worker.list`.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

#include "cli/command.h"
#include "http/transport.h"
#include "worker_api/client_config.h"

namespace arcade::cli {

// What the worker commands take from outside besides the runtime (whose
// transport they use): tests substitute shorter timeouts.
struct WorkerCommandDeps {
    worker_api::Timeouts timeouts;  // connect 5 s, requests 30 s
    int page_size = 100;
};

// Adds `worker` (alias `server`) with its group options (-h/--host, -p/--port,
// --tls, --no-tls; help stays on --help) and subcommands to `root`, and
// registers every leaf's run function in `table`, and the group's respelling
// of the original's `-cp` (hidden, as `--cloud-port`). `root` and `table` must
// outlive any run.
void setup_worker_commands(CLI::App& root, CommandTable& table);
void setup_worker_commands(CLI::App& root, CommandTable& table, WorkerCommandDeps deps);

}  // namespace arcade::cli
