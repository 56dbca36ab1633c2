#pragma once
// The `arcade` application: builds the CLI11 command tree, parses argv, runs
// the chosen command through the tracking wrapper and maps every error to an
// exit code. The only place that knows the whole command tree.

#include <atomic>

#include "cli/command.h"
#include "core/runtime.h"

namespace arcade::cli {

// Builds the whole `arcade` command tree on `app` (the root: version flag,
// footer, every command group) and registers each runnable command in
// `table`. The single source of the tree: run_app parses with it, and the
// packaging test checks the bash completion and man page against it.
void build_command_tree(CLI::App& app, CommandTable& table);

// Runs one invocation and returns its exit code. Never throws.
int run_app(int argc, const char* const* argv, Output& io, const Runtime& runtime,
            const std::atomic<bool>& interrupted);

}  // namespace arcade::cli
