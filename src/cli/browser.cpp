#include "cli/browser.h"

#include <unistd.h>

#include <optional>
#include <string_view>
#include <vector>

#include "core/spawn.h"

namespace arcade::cli {

namespace {

// `program` as an executable path: itself when it has a slash, else the
// first match on `search_path`.
std::optional<std::string> find_program(const std::string& program, const std::string& search_path) {
    if (program.empty()) return std::nullopt;
    if (program.find('/') != std::string::npos)
        return ::access(program.c_str(), X_OK) == 0 ? std::optional(program) : std::nullopt;
    std::string_view rest = search_path;
    while (true) {
        auto colon = rest.find(':');
        std::string dir(rest.substr(0, colon));
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        rest = rest.substr(colon + 1);
    }
}

// Starts `argv` detached, never becoming our zombie although login goes on.
bool launch_detached(const Spawner& spawner, const std::vector<std::string>& argv) {
    if (argv.empty()) return false;
    return spawner.detached(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()), Reap::by_init);
}

}  // namespace

bool open_browser(const Runtime& runtime, const std::string& url) {
    const Environ& env = runtime.env;
    std::string search_path = env.get_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    std::vector<std::vector<std::string>> commands;
    std::string browsers = env.get_or("BROWSER", "");
    std::string_view rest = browsers;
    while (!rest.empty()) {
        auto colon = rest.find(':');
        std::string_view entry = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        std::vector<std::string> words;
        std::size_t i = 0;
        while (i < entry.size()) {
            while (i < entry.size() && entry[i] == ' ') ++i;
            std::size_t j = entry.find(' ', i);
            if (j == std::string_view::npos) j = entry.size();
            if (j > i) words.emplace_back(entry.substr(i, j - i));
            i = j;
        }
        if (words.empty()) continue;
        bool substituted = false;
        for (auto& w : words) {
            for (std::size_t at = w.find("%s"); at != std::string::npos; at = w.find("%s", at + url.size())) {
                w.replace(at, 2, url);
                substituted = true;
            }
        }
        if (!substituted) words.push_back(url);
        commands.push_back(std::move(words));
    }
    commands.push_back({"xdg-open", url});
    for (auto& command : commands) {
        auto program = find_program(command[0], search_path);
        if (!program) continue;
        command[0] = *program;
        if (launch_detached(runtime.spawner, command)) return true;
    }
    return false;
}

}  // namespace arcade::cli
