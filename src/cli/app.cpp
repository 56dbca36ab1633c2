#include "cli/app.h"

#include <ostream>

#include "cli/auth_commands.h"
#include "cli/tracking.h"
#include "cli/usage_commands.h"
#include "cli/worker_commands.h"
#include "core/build_info.h"
#include "core/exit_codes.h"

namespace arcade::cli {
namespace {

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += '.';
        out += p;
    }
    return out;
}

// The deepest subcommand CLI11 parsed, and its dotted canonical name (aliases
// such as `server` resolve to `worker`).
const CLI::App* chosen_command(const CLI::App& app, std::vector<std::string>& path) {
    const CLI::App* cur = &app;
    for (;;) {
        auto subs = cur->get_subcommands();
        if (subs.empty()) return cur;
        cur = subs.front();
        path.push_back(cur->get_name());
    }
}

}  // namespace

void build_command_tree(CLI::App& app, CommandTable& table) {
    app.set_version_flag("--version", std::string("arcade ") + build::kVersion);
    app.footer("Usage tracking: see `arcade usage status`.");
    setup_usage_commands(app, table);
    setup_auth_commands(app, table);
    setup_worker_commands(app, table);
}

int run_app(int argc, const char* const* argv, Output& io, const Runtime& runtime,
            const std::atomic<bool>& interrupted) {
    Invocation inv;
    inv.start = runtime.clock.monotonic();
    auto paths = config_paths(runtime.env);
    Context ctx(runtime, io, paths, interrupted);
    Tracked tracked = Tracked::yes;
    std::vector<std::string> path;
    try {
        CLI::App app("Arcade command-line tool", "arcade");
        CommandTable table;
        build_command_tree(app, table);
        try {
            app.parse(argc, argv);
            const CLI::App* leaf = chosen_command(app, path);
            const CommandTable::Entry* entry = table.find(leaf);
            if (entry == nullptr) {
                io.out << leaf->help();
                inv.exit_code = 0;
            } else {
                tracked = entry->tracked;
                inv.exit_code = entry->run(ctx);
                inv.error_message = ctx.error();
                inv.rotate_identity = ctx.rotation_requested();
            }
        } catch (const CLI::CallForVersion& e) {
            path = {"version"};
            inv.exit_code = app.exit(e, io.out, io.err);
        } catch (const CLI::ParseError& e) {
            path.clear();
            chosen_command(app, path);
            int code = app.exit(e, io.out, io.err);
            // CLI11's own codes (106, 109, …) would mean nothing to a shell script.
            inv.exit_code = code == 0 ? 0 : exit_code::kUsage;
            if (code != 0) inv.error_message = e.what();
        }
    } catch (const std::exception& e) {
        io.err << "arcade: " << e.what() << "\n";
        inv.exit_code = 1;
        inv.error_message = e.what();
    }
    inv.command_name = path.empty() ? "arcade" : join(path);
    inv.end = runtime.clock.monotonic();
    if (tracked == Tracked::yes) record_invocation(inv, runtime, paths, io.err);
    return inv.exit_code;
}

}  // namespace arcade::cli
