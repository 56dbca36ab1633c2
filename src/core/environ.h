#pragma once
// A snapshot of the process environment, so code under test can be handed a
// fake one. Read-only after construction; safe to share between threads.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace arcade {

class Environ {
public:
    Environ() = default;
    explicit Environ(std::map<std::string, std::string, std::less<>> vars) : vars_(std::move(vars)) {}

    // The real environment of this process (copied once).
    static Environ from_process();

    // The value of `name`, or nullopt when unset.
    std::optional<std::string> get(std::string_view name) const;
    // The value of `name` when set and non-empty, else `fallback`.
    std::string get_or(std::string_view name, std::string_view fallback) const;
    void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
    void unset(std::string_view name);

private:
    std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace arcade
