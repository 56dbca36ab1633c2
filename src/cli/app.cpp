#include "cli/app.h"

#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/auth_commands.h"
#include "cli/tracking.h"
#include "cli/usage_commands.h"
#include "cli/worker_commands.h"
#include "core/build_info.h"
#include "core/exit_codes.h"
#include "core/terminal_text.h"

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

// Root options take no values, so the first word that is not an option
// names the top-level command; args.size() when there is none.
std::size_t top_command_index(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i)
        if (args[i].empty() || args[i].front() != '-') return i;
    return args.size();
}

CLI::App* top_command_named(CLI::App& app, const std::string& word) {
    for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(word)) return sub;
    return nullptr;
}

// Help and usage errors name a command as the user typed it (`arcade server
// …`); only call this once the event's canonical path is known.
void name_as_typed(CLI::App* top, const std::vector<std::string>& args, std::size_t index) {
    if (top != nullptr && top->get_name() != args[index]) top->name(args[index]);
}

// A word that names no subcommand of a group (`arcade server bogus`), named
// back to the user as the original did; nullopt for other parse errors.
std::optional<std::string> unknown_command(const CLI::App& app, const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return std::nullopt;
    for (const CLI::App* cur = &app; cur != nullptr;) {
        auto extras = cur->remaining();
        bool group = !cur->get_subcommands([](const CLI::App*) { return true; }).empty();
        if (group && !extras.empty() && (extras.front().empty() || extras.front().front() != '-'))
            return fmt::format("No such command '{}'.", terminal_safe(extras.front()));
        auto parsed = cur->get_subcommands();
        cur = parsed.empty() ? nullptr : parsed.front();
    }
    return std::nullopt;
}

}  // namespace

void build_command_tree(CLI::App& app, CommandTable& table) {
    app.set_version_flag("-v,--version", std::string("arcade ") + build::kVersion);
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
    std::string canonical_top, typed_top;  // the top-level command's name, and the word that chose it
    try {
        CLI::App app("Arcade command-line tool", "arcade");
        CommandTable table;
        build_command_tree(app, table);
        std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
        const std::size_t top = top_command_index(args);
        CLI::App* top_app = top < args.size() ? top_command_named(app, args[top]) : nullptr;
        if (top_app != nullptr) {
            canonical_top = top_app->get_name();
            typed_top = args[top];
        }
        if (top_app != nullptr) {
            if (const RespellFn* respell = table.respelling(top_app)) (*respell)(args, top + 1);
        }
        try {
            app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
            const CLI::App* leaf = chosen_command(app, path);
            const CommandTable::Entry* entry = table.find(leaf);
            if (entry == nullptr) {
                // A group alone (`arcade server`) shows its help, as the original did.
                name_as_typed(top_app, args, top);
                io.out << app.help();
                inv.exit_code = 0;
            } else {
                tracked = entry->tracked;
                inv.exit_code = entry->run(ctx);
                inv.error_message = ctx.error();
                if (ctx.logged_out()) {
                    inv.logout = true;
                    inv.removed_credentials = ctx.removed_credentials_file();
                    if (const auto& removed = ctx.removed_credentials()) {
                        store::LoginOverride login{removed->account_identity(), "", ""};
                        if (removed->oauth && removed->oauth->context) {
                            login.org_id = removed->oauth->context->org_id;
                            login.project_id = removed->oauth->context->project_id;
                        }
                        inv.removed_login = login;
                    }
                }
            }
        } catch (const CLI::CallForVersion& e) {
            path = {"version"};
            inv.exit_code = app.exit(e, io.out, io.err);
        } catch (const CLI::ParseError& e) {
            path.clear();
            chosen_command(app, path);
            name_as_typed(top_app, args, top);
            if (auto message = unknown_command(app, e)) {
                io.err << *message << "\nRun with --help for more information.\n";
                inv.exit_code = exit_code::kUsage;
                inv.error_message = *message;
            } else {
                int code = app.exit(e, io.out, io.err);
                // CLI11's own codes (106, 109, …) would mean nothing to a shell script.
                inv.exit_code = code == 0 ? 0 : exit_code::kUsage;
                if (code != 0) inv.error_message = e.what();
            }
        }
    } catch (const std::exception& e) {
        io.err << "arcade: " << e.what() << "\n";
        inv.exit_code = 1;
        inv.error_message = e.what();
    }
    // As typed (SPEC §3): `arcade server list` is `server.list`, as the Python CLI names it.
    if (!path.empty() && !typed_top.empty() && path.front() == canonical_top) path.front() = typed_top;
    inv.command_name = path.empty() ? "arcade" : join(path);
    inv.end = runtime.clock.monotonic();
    if (tracked == Tracked::yes) record_invocation(inv, runtime, paths, io.err);
    return inv.exit_code;
}

}  // namespace arcade::cli
