#include "core/paths.h"

#include <pwd.h>
#include <unistd.h>

#include <vector>

#include "core/files.h"

namespace arcade {

std::string home_dir(const Environ& env) {
    if (auto home = env.get("HOME"); home && !home->empty()) return *home;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_dir)
        return found->pw_dir;
    return {};
}

std::optional<ConfigPaths> config_paths(const Environ& env) {
    if (auto work = env.get("ARCADE_WORK_DIR"); work && !work->empty())
        return ConfigPaths{std::filesystem::path(*work) / ".arcade"};
    std::string home = home_dir(env);
    if (home.empty()) return std::nullopt;
    return ConfigPaths{std::filesystem::path(home) / ".arcade", true};
}

bool ensure_config_dir(const ConfigPaths& paths) {
    return ensure_private_dir(paths.dir, paths.under_home ? Parents::must_exist : Parents::create);
}

}  // namespace arcade
