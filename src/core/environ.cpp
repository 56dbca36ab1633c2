#include "core/environ.h"

extern char** environ;

namespace arcade {

Environ Environ::from_process() {
    Environ env;
    for (char** entry = ::environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view kv(*entry);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        env.vars_.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

std::optional<std::string> Environ::get(std::string_view name) const {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
}

std::string Environ::get_or(std::string_view name, std::string_view fallback) const {
    auto it = vars_.find(name);
    if (it == vars_.end() || it->second.empty()) return std::string(fallback);
    return it->second;
}

void Environ::unset(std::string_view name) {
    auto it = vars_.find(name);
    if (it != vars_.end()) vars_.erase(it);
}

}  // namespace arcade
