#pragma once
// The `arcade` application: builds the CLI11 command tree, parses argv, runs
// the chosen command through the tracking wrapper and maps every error to an
// exit code. The only place that knows the whole command tree.

#include <atomic>

#include "cli/command.h"
#include "core/runtime.h"

namespace arcade::cli {

// Runs one invocation and returns its exit code. Never throws.
int run_app(int argc, const char* const* argv, Output& io, const Runtime& runtime,
            const std::atomic<bool>& interrupted);

}  // namespace arcade::cli
