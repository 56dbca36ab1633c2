#pragma once
// Where arcade keeps its files (SPEC §2): `$ARCADE_WORK_DIR/.arcade` when that
// is set, else `$HOME/.arcade` (falling back to the password database when
// HOME is unset).

#include <filesystem>
#include <optional>

#include "core/environ.h"

namespace arcade {

struct ConfigPaths {
    std::filesystem::path dir;
    std::filesystem::path journal() const { return dir / "usage.db"; }
    std::filesystem::path usage_json() const { return dir / "usage.json"; }
    std::filesystem::path credentials() const { return dir / "credentials.yaml"; }
    std::filesystem::path ship_lock() const { return dir / "ship.lock"; }
};

// The config paths for `env`; nullopt when no home can be found at all.
std::optional<ConfigPaths> config_paths(const Environ& env);

// The user's home directory as used for scrubbing (`~`), or empty.
std::string home_dir(const Environ& env);

}  // namespace arcade
