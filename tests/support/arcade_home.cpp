#include "support/arcade_home.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "core/clock.h"
#include "core/files.h"
#include "core/paths.h"
#include "store/ship_lock.h"

namespace arcade::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kOffline = "http://127.0.0.1:9";  // nothing listens on the discard port

milliseconds since(SteadyClock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

std::unique_ptr<store::Journal> open_read_only(const std::filesystem::path& dir) {
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_only);
    if (!open.journal) throw std::runtime_error("cannot open the journal: " + open.reason);
    return std::move(open.journal);
}

}  // namespace

IdleWait wait_shipper_idle(const std::filesystem::path& home, milliseconds limit) {
    const auto start = SteadyClock::now();
    const auto lock = home / ".arcade" / "ship.lock";
    IdleWait out;
    for (;;) {
        out.idle = wait_detached_gone(home, milliseconds(0)) && !store::ShipLock::is_held_elsewhere(lock);
        if (out.idle || since(start) >= limit) break;
        store::ShipLock::ask_holder_to_step_aside(lock);  // a shipper waiting for rows leaves now
        std::this_thread::sleep_for(milliseconds(20));
    }
    out.waited = since(start);
    return out;
}

ArcadeHome::ArcadeHome(const std::string& posthog_url) {
    env["ARCADE_WORK_DIR"] = path().string();
    env["HOME"] = path().string();
    env["PATH"] = "/usr/bin:/bin";
    env["ARCADE_USAGE_POSTHOG_KEY"] = "phc_test";
    env["ARCADE_CLOUD_URL"] = kOffline;
    env["ARCADE_ENGINE_URL"] = kOffline;
    set_posthog(posthog_url);
}

void ArcadeHome::set_posthog(const std::string& url) {
    env["ARCADE_USAGE_POSTHOG_HOST"] = url.empty() ? kOffline : url;
}

void ArcadeHome::write_credentials(const std::string& api_key, const std::string& email) const {
    std::filesystem::create_directories(config_dir());
    ::chmod(config_dir().c_str(), 0700);
    {
        std::ofstream f(credentials_path(), std::ios::trunc);
        f << "cloud:\n  api:\n    key: " << api_key << "\n  user:\n    email: " << email << "\n";
        if (!f.flush()) throw std::runtime_error("cannot write " + credentials_path().string());
    }
    ::chmod(credentials_path().c_str(), 0600);
}

std::string ArcadeHome::arcade_binary() {
    std::string bin = env_path("ARCADE_BIN");
    if (bin.empty()) throw std::runtime_error("ARCADE_BIN is not set (CTest sets it)");
    return bin;
}

std::string ArcadeHome::shipper_binary() {
    return (std::filesystem::path(arcade_binary()).parent_path() / "arcade-ship").string();
}

ProcessSpec ArcadeHome::arcade_spec(const std::vector<std::string>& args) const {
    ProcessSpec spec;
    spec.argv = {arcade_binary()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = env;
    return spec;
}

ProcessResult ArcadeHome::run(const std::vector<std::string>& args, std::optional<std::string> stdin_data,
                              milliseconds timeout) const {
    ProcessSpec spec = arcade_spec(args);
    spec.stdin_data = std::move(stdin_data);
    spec.timeout = timeout;
    return run_process(spec);
}

std::unique_ptr<ChildProcess> ArcadeHome::start(const std::vector<std::string>& args) const {
    return std::make_unique<ChildProcess>(arcade_spec(args));
}

std::vector<int> ArcadeHome::run_concurrently(int procs, int runs, const std::vector<std::string>& args) const {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "for i in $(seq " + std::to_string(runs) + "); do \"$0\" \"$@\" || exit 9; done",
                 arcade_binary()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = env;
    std::vector<int> pids;
    for (int p = 0; p < procs; ++p) pids.push_back(start_process(spec));
    std::vector<int> statuses;
    for (int pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        statuses.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return statuses;
}

ArcadeHome::ShipperRun ArcadeHome::ship() const {
    ProcessSpec spec;
    spec.argv = {shipper_binary()};
    spec.env = env;
    const auto start = SteadyClock::now();
    int pid = start_process(spec);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ShipperRun run;
    run.lived = since(start);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

std::vector<std::string> ArcadeHome::queue_events(int n, const std::string& tag) const {
    if (!ensure_private_dir(config_dir())) throw std::runtime_error("cannot create " + config_dir().string());
    auto open = store::Journal::open(ConfigPaths{config_dir()}, system_clock(), store::OpenMode::read_write);
    if (!open.journal) throw std::runtime_error("cannot open the journal: " + open.reason);
    std::vector<std::string> uuids;
    uuids.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto row = open.journal->append([&](const store::Identity& id) {
            store::NewEvent e;
            e.event = "CLI execution succeeded";
            e.distinct_id = id.anon_id;
            e.properties = "{\"command_name\":\"" + tag + "\",\"n\":" + std::to_string(i) + "}";
            return e;
        });
        uuids.push_back(row.uuid);
    }
    return uuids;
}

std::vector<store::StoredEvent> ArcadeHome::journal_events() const {
    return open_read_only(config_dir())->events(100000);
}

std::vector<store::IdentityTransition> ArcadeHome::identity_history() const {
    return open_read_only(config_dir())->identity_history();
}

std::optional<store::Identity> ArcadeHome::identity() const { return open_read_only(config_dir())->identity(); }

}  // namespace arcade::testing
