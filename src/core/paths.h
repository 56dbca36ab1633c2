#pragma once
// Where arcade keeps its files (SPEC §2): `$ARCADE_WORK_DIR/.arcade` when that
// is set (a leading `~` expanded as Python's os.path.expanduser does), else `$HOME/.arcade` (falling back to the password database when
// HOME is unset).

#include <filesystem>
#include <optional>

#include "core/environ.h"

namespace arcade {

struct ConfigPaths {
    std::filesystem::path dir;
    bool under_home = false;  // `$HOME/.arcade`: telemetry never creates HOME itself
    std::filesystem::path journal() const { return dir / "usage.db"; }
    std::filesystem::path usage_json() const { return dir / "usage.json"; }
    std::filesystem::path credentials() const { return dir / "credentials.yaml"; }
    std::filesystem::path ship_lock() const { return dir / "ship.lock"; }
};

// `path` with a leading `~` or `~user` replaced by that home directory, as
// Python's posixpath.expanduser does: `~` is $HOME when set (even empty),
// else the password database; an unknown user leaves the path unchanged;
// trailing slashes of the home are dropped; an empty result is "/".
std::string expand_user(const std::string& path, const Environ& env);

// The config paths for `env`; nullopt when no home can be found at all.
std::optional<ConfigPaths> config_paths(const Environ& env);

// Makes the config dir exist as a private directory (ensure_private_dir):
// under ARCADE_WORK_DIR missing parents are created; under HOME they are
// not (SPEC §2). False when it cannot be had safely. Never throws.
bool ensure_config_dir(const ConfigPaths& paths);

// Why the config dir cannot hold telemetry's files, read without changing
// anything (for `usage status`): its path is taken by something that is not a
// directory (a file, a FIFO, a link to one), or under HOME the parent is
// missing. Empty when it is a directory or could be created. Never throws.
std::string config_dir_problem(const ConfigPaths& paths);

// The user's home directory as used for scrubbing (`~`), or empty.
std::string home_dir(const Environ& env);

}  // namespace arcade
