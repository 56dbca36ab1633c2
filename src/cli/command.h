#pragma once
// What every command sees: its output sink, environment, config paths and a
// way to report failure. Commands return an exit code; they never call exit()
// and never write to std::cout directly. The tracking wrapper (tracking.h)
// times each command, records its event and returns its exit code unchanged.

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/credentials.h"
#include "core/environ.h"
#include "core/paths.h"
#include "core/runtime.h"

namespace arcade::cli {

// Where a command writes. `color` is true only when stdout is a TTY and
// NO_COLOR is unset.
struct Output {
    std::ostream& out;
    std::ostream& err;
    bool out_is_tty = false;
    bool in_is_tty = false;
    bool color = false;
};

class Context {
public:
    Context(const Runtime& runtime, Output& io, std::optional<ConfigPaths> paths, const std::atomic<bool>& interrupted)
        : runtime_(runtime), io_(io), paths_(std::move(paths)), interrupted_(interrupted) {}

    // The clock, environment, transport, spawner and tricks of this process.
    const Runtime& runtime() const { return runtime_; }
    const Environ& env() const { return runtime_.env; }
    Output& io() { return io_; }
    std::ostream& out() { return io_.out; }
    std::ostream& err() { return io_.err; }
    // nullopt when no config dir can be found (no HOME, no ARCADE_WORK_DIR).
    const std::optional<ConfigPaths>& paths() const { return paths_; }
    // True once SIGINT has arrived (long-running commands poll it).
    const std::atomic<bool>& interrupted() const { return interrupted_; }

    // Prints `message` as one line on stderr and keeps it as the failure's
    // error_message for telemetry. Returns 1 so callers can `return ctx.fail(...)`.
    int fail(const std::string& message, int exit_code = 1);
    // Keeps `message` for telemetry without printing it (already printed).
    void set_error(std::string message) { error_ = std::move(message); }
    const std::string& error() const { return error_; }

    // Logout tells the tracking wrapper what it removed: the credentials
    // (nullopt: none usable) and whether a file was there. The event goes out
    // as that login, then the identity is rotated when it was linked or a
    // file was removed, so the next user starts clean (SPEC §4).
    void logged_out(const std::optional<Credentials>& removed, bool removed_file) {
        logout_ = true;
        removed_file_ = removed_file;
        removed_ = removed;
    }
    bool logged_out() const { return logout_; }
    bool removed_credentials_file() const { return removed_file_; }
    const std::optional<Credentials>& removed_credentials() const { return removed_; }

private:
    const Runtime& runtime_;
    Output& io_;
    std::optional<ConfigPaths> paths_;
    const std::atomic<bool>& interrupted_;
    std::string error_;
    bool logout_ = false;
    bool removed_file_ = false;
    std::optional<Credentials> removed_;
};

using RunFn = std::function<int(Context&)>;

// Whether a command's own invocation becomes a usage event. Commands that
// remove telemetry data or opt out must not immediately write it back.
enum class Tracked { yes, no };

// Rewrites, in place, `args[from..]` (the words after a command group's own
// name) before CLI11 parses them: for spellings the original CLI accepted
// that CLI11 cannot declare, such as the two-letter single-dash `-cp`.
using RespellFn = std::function<void(std::vector<std::string>& args, std::size_t from)>;

// Maps each leaf CLI11 subcommand to the function that runs it, and each
// top-level group to its respelling, if it has one.
class CommandTable {
public:
    void add_respelling(const CLI::App* group, RespellFn respell) { respellings_[group] = std::move(respell); }
    const RespellFn* respelling(const CLI::App* group) const {
        auto it = respellings_.find(group);
        return it == respellings_.end() ? nullptr : &it->second;
    }

    void add(CLI::App* command, RunFn run, Tracked tracked = Tracked::yes) {
        entries_[command] = Entry{std::move(run), tracked};
    }
    struct Entry {
        RunFn run;
        Tracked tracked = Tracked::yes;
    };
    const Entry* find(const CLI::App* command) const {
        auto it = entries_.find(command);
        return it == entries_.end() ? nullptr : &it->second;
    }

private:
    std::map<const CLI::App*, Entry> entries_;
    std::map<const CLI::App*, RespellFn> respellings_;
};

}  // namespace arcade::cli
