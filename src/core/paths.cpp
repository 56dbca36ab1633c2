#include "core/paths.h"

#include <pwd.h>
#include <sys/stat.h>
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

std::string expand_user(const std::string& path, const Environ& env) {
    if (path.empty() || path.front() != '~') return path;
    std::size_t end = path.find('/', 1);
    if (end == std::string::npos) end = path.size();
    std::string home;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (end == 1) {
        if (auto h = env.get("HOME")) home = *h;  // set, even empty, wins (as in Python)
        else if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_dir)
            home = found->pw_dir;
        else return path;
    } else {
        std::string name = path.substr(1, end - 1);
        if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found || !found->pw_dir)
            return path;  // no such user: left as is
        home = found->pw_dir;
    }
    while (!home.empty() && home.back() == '/') home.pop_back();
    std::string out = home + path.substr(end);
    return out.empty() ? "/" : out;
}

std::optional<ConfigPaths> config_paths(const Environ& env) {
    if (auto work = env.get("ARCADE_WORK_DIR"); work && !work->empty())
        return ConfigPaths{std::filesystem::path(expand_user(*work, env)) / ".arcade"};
    std::string home = home_dir(env);
    if (home.empty()) return std::nullopt;
    return ConfigPaths{std::filesystem::path(home) / ".arcade", true};
}

std::string config_dir_problem(const ConfigPaths& paths) {
    struct stat st {};
    if (::stat(paths.dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return {};
        return paths.dir.string() + " is not a directory, so usage events cannot be recorded (move it away)";
    }
    struct stat link {};
    if (::lstat(paths.dir.c_str(), &link) == 0)
        return paths.dir.string() + " is a broken symbolic link, so usage events cannot be recorded (remove it)";
    if (paths.under_home && ::stat(paths.dir.parent_path().c_str(), &st) != 0)
        return "the home directory " + paths.dir.parent_path().string() + " does not exist";
    return {};
}

bool ensure_config_dir(const ConfigPaths& paths) {
    return ensure_private_dir(paths.dir, paths.under_home ? Parents::must_exist : Parents::create);
}

}  // namespace arcade
