#pragma once
// `arcade usage status|purge|disable|enable|flush`: seeing and controlling
// what telemetry keeps and sends (SPEC §6).

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace arcade::cli {

// Adds the `usage` group to `root` and registers its commands in `table`.
void setup_usage_commands(CLI::App& root, CommandTable& table);

}  // namespace arcade::cli
