#include "cli/worker_commands.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <ctime>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloud/oauth.h"
#include "core/credentials.h"
#include "core/endpoints.h"
#include "core/exit_codes.h"
#include "core/terminal_text.h"
#include "core/time_format.h"
#include "core/url_codec.h"
#include "worker_api/cloud_client.h"
#include "worker_api/engine_client.h"
#include "worker_api/worker_merge.h"

namespace arcade::cli {

namespace {

using worker_api::ApiError;
using worker_api::ErrorKind;

// How long refreshing an expiring OAuth token may take (two requests).
constexpr std::chrono::milliseconds kRefreshTimeout{10000};


// ---------------------------------------------------------------------------
// Options

struct EndpointFlags {
    std::string host;
    int port = 0;
    bool tls = false;
    bool no_tls = false;
    CLI::Option* host_option = nullptr;
    CLI::Option* port_option = nullptr;
};

struct ListOptions {
    bool json = false;
    EndpointFlags cloud;
};

struct ToggleOptions {
    std::string worker_id;
};

struct RmOptions {
    std::string worker_id;
    bool deregister = false;
    EndpointFlags cloud;
};

struct LogsOptions {
    std::string worker_id;
    EndpointFlags cloud;
};

// Everything the parsed command line leaves behind for the run functions.
struct WorkerState {
    WorkerCommandDeps deps;
    EndpointFlags engine;
    ListOptions list;
    ToggleOptions enable;
    ToggleOptions disable;
    RmOptions rm;
    LogsOptions logs;
};

// The Python CLI's hidden per-command flags for reaching the Cloud.
void add_cloud_flags(CLI::App* cmd, EndpointFlags& flags) {
    flags.host_option = cmd->add_option("-c,--cloud-host", flags.host, "Arcade Cloud host")->group("");
    flags.port_option = cmd->add_option("--cloud-port", flags.port, "Arcade Cloud port")
                            ->check(CLI::Range(1, 65535))
                            ->group("");
    cmd->add_flag("--tls", flags.tls, "Force TLS for the Arcade Cloud connection")->group("");
    cmd->add_flag("--no-tls", flags.no_tls, "Disable TLS for the Arcade Cloud connection")->group("");
}

// The original's `-cp PORT` and `-cp=PORT` (Click takes a multi-letter name
// after one dash; CLI11 would read `-c p`) as `--cloud-port`, up to a `--`.
// `-cpPORT` is left alone: Click read it as `-c pPORT` too.
void respell_cloud_port(std::vector<std::string>& args, std::size_t from) {
    for (std::size_t i = from; i < args.size(); ++i) {
        std::string& word = args[i];
        if (word == "--") return;
        if (word == "-cp")
            word = "--cloud-port";
        else if (word.rfind("-cp=", 0) == 0)
            word = "--cloud-port=" + word.substr(4);
    }
}

// ---------------------------------------------------------------------------
// Shared steps of every command

int interrupted(Context& ctx) {
    ctx.set_error("Interrupted");
    return exit_code::kInterrupted;
}

// One line on stderr, exit 1; cancellation (Ctrl-C) is not an error line.
int report(Context& ctx, std::string_view what, const ApiError& error) {
    if (error.kind == ErrorKind::cancelled) return interrupted(ctx);
    return ctx.fail(fmt::format("{}: {}", what, error.describe()));
}

// The login, with an access token that stays valid for this command: an
// OAuth token expiring within five minutes is refreshed through the
// Coordinator and the file rewritten in the same format (as the Python CLI's
// get_valid_access_token does). A key is returned as it is.
std::optional<Credentials> require_login(Context& ctx) {
    std::optional<Credentials> creds;
    if (ctx.paths()) creds = load_credentials(ctx.paths()->credentials());
    if (!creds) {
        ctx.fail(kNotLoggedIn);
        return std::nullopt;
    }
    if (!creds->is_oauth()) return creds;
    if (!creds->oauth->context) {
        ctx.fail("No active organization/project. Run `arcade logout`, then `arcade login`.");
        return std::nullopt;
    }
    auto transport = ctx.runtime().make_transport();
    bool refreshed = false;
    auto fresh = cloud::fresh_login(*transport, *creds, ctx.runtime().clock.now_ms(), kRefreshTimeout, &refreshed,
                                    &ctx.interrupted());
    if (!fresh && ctx.interrupted()) {
        interrupted(ctx);
        return std::nullopt;
    }
    if (!fresh) {
        ctx.fail(fmt::format("Failed to refresh the Arcade Cloud login: {}. Run `arcade logout`, then `arcade login`.",
                             terminal_safe(fresh.failure.message)));
        return std::nullopt;
    }
    // The old token may already be revoked by the refresh: a login that
    // cannot be saved would be lost, so say so (the command still runs).
    if (refreshed && !save_credentials(ctx.paths()->credentials(), *fresh.value))
        ctx.err() << "Warning: could not save the refreshed login to " << ctx.paths()->credentials().string()
                  << ".\n";
    return std::move(fresh.value);
}

// The flags when given, else the service's variable or default, through the one endpoint rule.
std::optional<std::string> resolve_url(Context& ctx, const EndpointFlags& flags, Service service) {
    EndpointRequest request;
    request.host = flags.host_option && flags.host_option->count() > 0 ? flags.host : configured_host(service, ctx.env());
    if (flags.port_option && flags.port_option->count() > 0) request.port = flags.port;
    request.force_tls = flags.tls;
    request.force_no_tls = flags.no_tls;
    auto url = resolve_endpoint(service, request);
    if (!url) ctx.fail(fmt::format("Invalid {} host: '{}'", service_name(service), terminal_safe(request.host)));
    return url;
}

std::optional<std::string> engine_url(Context& ctx, const WorkerState& state) {
    return resolve_url(ctx, state.engine, Service::engine);
}

std::optional<std::string> cloud_url(Context& ctx, const EndpointFlags& flags) {
    return resolve_url(ctx, flags, Service::cloud);
}

worker_api::ClientConfig client_config(Context& ctx, const WorkerState& state, std::string base_url,
                                       const Credentials& creds) {
    worker_api::ClientConfig config;
    config.base_url = std::move(base_url);
    config.api_key = creds.secret();
    if (creds.oauth && creds.oauth->context)
        config.engine_scope = fmt::format("/orgs/{}/projects/{}", percent_encode(creds.oauth->context->org_id),
                                          percent_encode(creds.oauth->context->project_id));
    config.timeouts = state.deps.timeouts;
    config.page_size = state.deps.page_size;
    config.cancel = &ctx.interrupted();
    return config;
}

// ---------------------------------------------------------------------------
// `worker list` output

struct Cell {
    std::string text;    // what is measured and printed without colour
    std::string styled;  // the coloured rendering; empty means `text`
};

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++width;
    return width;
}

std::string paint(std::string_view text, std::string_view sgr) { return fmt::format("\x1b[{}m{}\x1b[0m", sgr, text); }

std::string yes_no(bool value) { return value ? "True" : "False"; }

// A worker the Engine does not know is not enabled there (the original said
// False); one it knows but did not say about is unknown, not disabled.
std::string enabled_text(const worker_api::WorkerSummary& row) {
    if (!row.engine_registered) return yes_no(false);
    return row.enabled ? yes_no(*row.enabled) : "unknown";
}

Cell host_cell(const worker_api::WorkerSummary& row, bool color) {
    if (row.endpoint_mismatch) {
        std::string engine = terminal_safe(row.engine_uri);
        std::string cloud = terminal_safe(row.cloud_endpoint);
        Cell cell{fmt::format("mismatch: engine {}, cloud {}", engine, cloud), {}};
        if (color)
            cell.styled = fmt::format("{} engine {}, cloud {}", paint("mismatch:", "1;31"), paint(engine, "33"),
                                      paint(cloud, "32"));
        return cell;
    }
    return Cell{terminal_safe(row.engine_registered ? row.engine_uri : row.cloud_endpoint), {}};
}

std::string toolkits_text(const worker_api::WorkerSummary& row) {
    if (!row.toolkits) return "(could not fetch)";
    std::string joined;
    for (const auto& name : *row.toolkits) {
        if (!joined.empty()) joined += ", ";
        joined += terminal_safe(name);
    }
    return joined;
}

void print_table(std::ostream& out, const std::vector<worker_api::WorkerSummary>& rows, bool color) {
    const std::vector<std::string> headers = {"ID",      "Cloud Deployed", "Engine Registered",
                                              "Enabled", "Host",           "Toolkits"};
    std::vector<std::vector<Cell>> table;
    for (const auto& row : rows) {
        table.push_back({
            Cell{terminal_safe(row.id), {}},
            Cell{row.cloud_deployed ? yes_no(*row.cloud_deployed) : "unknown", {}},
            Cell{yes_no(row.engine_registered), {}},
            Cell{enabled_text(row), {}},
            host_cell(row, color),
            Cell{toolkits_text(row), {}},
        });
    }

    std::vector<std::size_t> widths;
    for (const auto& h : headers) widths.push_back(display_width(h));
    for (const auto& cells : table)
        for (std::size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], display_width(cells[i].text));

    auto print_row = [&](const std::vector<Cell>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += cells[i].styled.empty() ? cells[i].text : cells[i].styled;
            if (i + 1 < cells.size()) line += std::string(widths[i] - display_width(cells[i].text) + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << '\n';
    };

    std::vector<Cell> header_cells;
    std::vector<Cell> rule_cells;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        header_cells.push_back(Cell{headers[i], color ? paint(headers[i], "1") : std::string{}});
        rule_cells.push_back(Cell{std::string(widths[i], '-'), {}});
    }
    // The original's rich table had this title, centred over the table.
    std::size_t table_width = 0;
    for (std::size_t width : widths) table_width += width + 2;
    table_width -= 2;
    const std::string title = "Workers";
    out << std::string((table_width - title.size()) / 2, ' ') << (color ? paint(title, "3") : title) << '\n';
    print_row(header_cells);
    print_row(rule_cells);
    for (const auto& cells : table) print_row(cells);
}

// ---------------------------------------------------------------------------
// Run functions

int run_list(Context& ctx, const WorkerState& state) {
    auto creds = require_login(ctx);
    if (!creds) return ctx.interrupted() ? exit_code::kInterrupted : 1;
    auto engine_base = engine_url(ctx, state);
    if (!engine_base) return 1;
    auto cloud_base = cloud_url(ctx, state.list.cloud);
    if (!cloud_base) return 1;

    auto transport = ctx.runtime().make_transport();
    worker_api::EngineClient engine(*transport, client_config(ctx, state, *engine_base, *creds));
    worker_api::CloudClient cloud(*transport, client_config(ctx, state, *cloud_base, *creds));

    auto registered = engine.list_workers();
    if (!registered) return report(ctx, "Could not list workers", registered.error());

    // The Engine's view is still worth showing when the Cloud cannot be asked
    // (a local Engine, a Cloud outage); the table then says "unknown".
    // An OAuth login has no first-generation Cloud listing to ask (the
    // Python CLI 1.15 lists only the Engine's workers): "unknown", quietly.
    std::optional<std::vector<worker_api::CloudWorker>> deployed;
    if (!creds->is_oauth()) {
        if (auto listed = cloud.list_workers()) {
            deployed = std::move(listed.value());
        } else {
            if (listed.error().kind == ErrorKind::cancelled) return interrupted(ctx);
            ctx.err() << "Warning: could not list Cloud deployments: " << listed.error().describe() << '\n';
        }
    }

    auto rows = worker_api::merge_workers(registered.value(), deployed);
    for (auto& row : rows) {
        if (!row.engine_registered) continue;
        auto toolkits = engine.list_toolkits(row.id);
        if (toolkits) {
            row.toolkits = std::move(toolkits.value());
            continue;
        }
        const ApiError& error = toolkits.error();
        if (error.is_status(404)) continue;  // no tools registered: an empty list
        if (error.kind != ErrorKind::status && error.kind != ErrorKind::bad_response)
            return report(ctx, fmt::format("Could not list the tools of worker '{}'", terminal_safe(row.id)), error);
        ctx.err() << fmt::format("Warning: could not list the tools of worker '{}': {}\n", terminal_safe(row.id),
                                 error.describe());
        row.toolkits = std::nullopt;
    }

    if (state.list.json) {
        ctx.out() << worker_api::workers_to_json(rows);
    } else if (rows.empty()) {
        ctx.out() << "No workers found\n";
    } else {
        print_table(ctx.out(), rows, ctx.io().color);
    }
    return 0;
}

int run_toggle(Context& ctx, const WorkerState& state, const ToggleOptions& opts, bool enable) {
    auto creds = require_login(ctx);
    if (!creds) return ctx.interrupted() ? exit_code::kInterrupted : 1;
    auto engine_base = engine_url(ctx, state);
    if (!engine_base) return 1;

    auto transport = ctx.runtime().make_transport();
    worker_api::EngineClient engine(*transport, client_config(ctx, state, *engine_base, *creds));
    const std::string id = terminal_safe(opts.worker_id);
    if (auto done = engine.set_enabled(opts.worker_id, enable); !done)
        return report(ctx, fmt::format("Could not {} worker '{}'", enable ? "enable" : "disable", id), done.error());
    ctx.out() << fmt::format("Worker '{}' is now {}.\n", id, enable ? "enabled" : "disabled");
    return 0;
}

int run_rm(Context& ctx, const WorkerState& state) {
    const RmOptions& opts = state.rm;
    auto creds = require_login(ctx);
    if (!creds) return ctx.interrupted() ? exit_code::kInterrupted : 1;
    auto engine_base = engine_url(ctx, state);
    if (!engine_base) return 1;
    std::optional<std::string> cloud_base;
    // With an OAuth login the Engine's org-scoped deletion is the whole job,
    // as the Python CLI 1.15's `server delete` does it.
    if (!opts.deregister && !creds->is_oauth()) {
        cloud_base = cloud_url(ctx, opts.cloud);
        if (!cloud_base) return 1;
    }

    auto transport = ctx.runtime().make_transport();
    const std::string id = terminal_safe(opts.worker_id);
    if (cloud_base) {
        worker_api::CloudClient cloud(*transport, client_config(ctx, state, *cloud_base, *creds));
        if (auto deleted = cloud.delete_deployment(opts.worker_id); !deleted) {
            if (deleted.error().is_status(404))
                return ctx.fail(
                    "Deployment not found. To deregister the worker from the engine, use the --deregister flag.");
            return report(ctx, fmt::format("Could not delete the Cloud deployment of worker '{}'", id),
                          deleted.error());
        }
        ctx.out() << fmt::format("Deleted the Cloud deployment of worker '{}'.\n", id);
    }

    worker_api::EngineClient engine(*transport, client_config(ctx, state, *engine_base, *creds));
    if (auto removed = engine.remove_worker(opts.worker_id); !removed) {
        // Not a failure: after a Cloud deletion the Engine may never have
        // known the worker, and for `rm -d` the original said "Worker not
        // found" and succeeded.
        if (removed.error().is_status(404)) {
            ctx.out() << (cloud_base ? fmt::format("Worker '{}' was not registered with the Arcade Engine.\n", id)
                                     : std::string("Worker not found\n"));
            return 0;
        }
        return report(ctx, fmt::format("Could not deregister worker '{}' from the Arcade Engine", id),
                      removed.error());
    }
    ctx.out() << fmt::format("Deregistered worker '{}' from the Arcade Engine.\n", id);
    return 0;
}

// Each line of a log event without its surrounding whitespace, as the
// original printed `data:` lines (Python's strip(), ASCII whitespace here).
std::string trim_each_line(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\v\f";
    std::string out;
    for (;;) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        auto first = line.find_first_not_of(kSpace);
        if (first != std::string_view::npos) out += line.substr(first, line.find_last_not_of(kSpace) - first + 1);
        if (end == std::string_view::npos) return out;
        out += '\n';
        text.remove_prefix(end + 1);
    }
}

// One event of the Engine's deployment log stream as the Python CLI 1.15
// prints it: `{"Timestamp": "<RFC 3339 UTC>", "Line": "..."}` becomes
// `[YYYY-MM-DD HH:MM:SS ZONE] line` in local time; a timestamp it cannot read
// is shown as sent, and a payload that is not such an object as it is.
std::string deployment_log_line(const std::string& data) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(data.c_str(), data.size());
    if (doc.HasParseError() || !doc.IsObject()) return data;
    auto line = doc.FindMember("Line");
    auto stamp = doc.FindMember("Timestamp");
    std::string text = line != doc.MemberEnd() && line->value.IsString()
                           ? std::string(line->value.GetString(), line->value.GetStringLength())
                           : std::string();
    std::string when = stamp != doc.MemberEnd() && stamp->value.IsString()
                           ? std::string(stamp->value.GetString(), stamp->value.GetStringLength())
                           : std::string();
    if (auto ms = parse_rfc3339(when)) {
        std::time_t secs = static_cast<std::time_t>(*ms / 1000 - (*ms % 1000 < 0 ? 1 : 0));
        std::tm local{};
        char buf[64];
        if (::localtime_r(&secs, &local) && std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &local) > 0)
            when = buf;
    }
    return "[" + when + "] " + text;
}

// `{engine}/v1/orgs/{org}/projects/{project}/deployments/{id}/logs/stream`
// with the Python CLI's `start_time_utc`/`end_time_utc` (both "now" when
// following from 0s, as its `server logs -f` sends them).
std::string engine_logs_url(const std::string& engine, const Credentials& creds, const std::string& worker_id,
                            std::int64_t now_ms) {
    const std::string now = rfc3339_ms(now_ms);
    return fmt::format("{}/v1/orgs/{}/projects/{}/deployments/{}/logs/stream?start_time_utc={}&end_time_utc={}",
                       engine, percent_encode(creds.oauth->context->org_id),
                       percent_encode(creds.oauth->context->project_id), percent_encode(worker_id),
                       percent_encode(now), percent_encode(now));
}

int run_logs(Context& ctx, const WorkerState& state) {
    const LogsOptions& opts = state.logs;
    auto creds = require_login(ctx);
    if (!creds) return ctx.interrupted() ? exit_code::kInterrupted : 1;
    // An OAuth login streams from the Engine's org-scoped deployment logs
    // (with `Bearer`, as the Python CLI 1.15 does); a key from the Cloud.
    std::optional<std::string> base = creds->is_oauth() ? engine_url(ctx, state) : cloud_url(ctx, opts.cloud);
    if (!base) return 1;

    auto transport = ctx.runtime().make_transport();
    worker_api::CloudClient cloud(*transport, client_config(ctx, state, *base, *creds));
    std::optional<std::string> error_event;
    bool output_closed = false;
    auto on_event = [&](const worker_api::SseEvent& event) {
        if (event.type == "error") {
            error_event = event.data;
            return false;
        }
        if (!event.has_data) return true;
        if (event.data == "[DONE]") return false;
        // Flushed per event: the user watches these as they happen.
        const std::string shown = creds->is_oauth() ? deployment_log_line(event.data) : trim_each_line(event.data);
        ctx.out() << terminal_safe_lines(shown) << '\n' << std::flush;
        // `arcade worker logs | head`: SIGPIPE is ignored, so a closed
        // stdout shows up as a failed stream and must end the command.
        output_closed = !ctx.out();
        return !output_closed;
    };
    auto streamed = creds->is_oauth()
                        ? cloud.stream_logs_from(engine_logs_url(*base, *creds, opts.worker_id,
                                                                 ctx.runtime().clock.now_ms()),
                                                 on_event)
                        : cloud.stream_logs(opts.worker_id, on_event);

    if (!streamed) {
        return report(ctx, fmt::format("Could not stream logs for worker '{}'", terminal_safe(opts.worker_id)),
                      streamed.error());
    }
    if (ctx.interrupted()) return interrupted(ctx);
    if (output_closed) {
        ctx.set_error("Output closed");
        return 1;
    }
    if (error_event) {
        if (error_event->empty()) return ctx.fail("Could not stream logs");
        return ctx.fail(fmt::format("Could not stream logs: {}", terminal_safe(*error_event)));
    }
    return 0;
}

// Worker ids travel as one path segment (percent-encoded), which `.` and
// `..` cannot be: `/v1/workers/..` would name another resource (SPEC §7).
const CLI::Validator kWorkerId(
    [](std::string& id) -> std::string {
        if (id.empty() || id == "." || id == "..") return "'" + terminal_safe(id) + "' is not a worker id";
        return {};
    },
    "WORKER_ID");

}  // namespace

void setup_worker_commands(CLI::App& root, CommandTable& table) { setup_worker_commands(root, table, {}); }

void setup_worker_commands(CLI::App& root, CommandTable& table, WorkerCommandDeps deps) {
    auto state = std::make_shared<WorkerState>();
    state->deps = std::move(deps);

    CLI::App* worker = root.add_subcommand("worker", "Manage workers registered with the Arcade Engine and deployed "
                                                     "to Arcade Cloud");
    worker->alias("server");
    // `-h` is the host here, as in the Python CLI; help stays on --help.
    worker->set_help_flag("--help", "Print this help message and exit");
    // No subcommand: app.cpp shows this group's help, as the original did.
    table.add_respelling(worker, respell_cloud_port);
    EndpointFlags& engine = state->engine;
    engine.host_option =
        worker->add_option("-h,--host", engine.host, "Arcade Engine host (default: $ARCADE_ENGINE_URL or api.arcade.dev)");
    engine.port_option =
        worker->add_option("-p,--port", engine.port, "Arcade Engine port")->check(CLI::Range(1, 65535));
    worker->add_flag("--tls", engine.tls, "Force TLS for the Arcade Engine connection");
    worker->add_flag("--no-tls", engine.no_tls, "Disable TLS for the Arcade Engine connection (wins over --tls)");

    CLI::App* list = worker->add_subcommand("list", "List workers from the Engine and the Cloud");
    list->add_flag("--json", state->list.json, "Print the workers as a JSON array");
    add_cloud_flags(list, state->list.cloud);
    table.add(list, [state](Context& ctx) { return run_list(ctx, *state); });

    CLI::App* enable = worker->add_subcommand("enable", "Enable a worker");
    enable->add_option("worker_id", state->enable.worker_id, "The worker's id")->required()->check(kWorkerId);
    table.add(enable, [state](Context& ctx) { return run_toggle(ctx, *state, state->enable, true); });

    CLI::App* disable = worker->add_subcommand("disable", "Disable a worker");
    disable->add_option("worker_id", state->disable.worker_id, "The worker's id")->required()->check(kWorkerId);
    table.add(disable, [state](Context& ctx) { return run_toggle(ctx, *state, state->disable, false); });

    CLI::App* rm = worker->add_subcommand("rm", "Delete a worker's Cloud deployment and deregister it from the Engine");
    rm->add_option("worker_id", state->rm.worker_id, "The worker's id")->required()->check(kWorkerId);
    rm->add_flag("-d,--deregister", state->rm.deregister, "Only deregister the worker from the Engine (skip the Cloud)");
    add_cloud_flags(rm, state->rm.cloud);
    table.add(rm, [state](Context& ctx) { return run_rm(ctx, *state); });

    CLI::App* logs = worker->add_subcommand("logs", "Stream a deployed worker's logs (Ctrl-C to stop)");
    logs->add_option("worker_id", state->logs.worker_id, "The worker's id")->required()->check(kWorkerId);
    add_cloud_flags(logs, state->logs.cloud);
    table.add(logs, [state](Context& ctx) { return run_logs(ctx, *state); });
}

}  // namespace arcade::cli
