#pragma once
// `arcade login` and `arcade logout` (SPEC §4, §6): the browser login, the
// credentials file, and the identity transitions that go with them (link +
// alias at login, rotation at logout). The callback protocol and its server
// live in login_callback.h, the browser launcher in browser.h.

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace arcade::cli {

// Adds `login` and `logout` to `root` and registers them in `table`.
void setup_auth_commands(CLI::App& root, CommandTable& table);

namespace auth {

// The loopback port the callback server listens on unless `--port` says otherwise.
inline constexpr int kDefaultCallbackPort = 9905;
// How long `arcade login` waits for the browser unless `--timeout` says otherwise.
inline constexpr int kDefaultTimeoutSeconds = 300;

}  // namespace auth
}  // namespace arcade::cli
