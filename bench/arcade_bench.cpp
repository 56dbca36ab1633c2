// arcade-bench: the figures SPEC §5 and the issues promise, measured on this
// machine in one run so ratios compare like with like. Prints a markdown
// report. Every measurement runs the real binaries or the real journal and
// shipper code; PostHog is the loopback sink.
//
//   arcade-bench [--runs N] [--drain-events N] [--bin DIR] [--base-bin DIR] [--only SECTION]
//
// --base-bin DIR: another build's binaries (e.g. main's release), run
// interleaved with this build's in the identity-check rows, so old and new
// compare in one run.
//
// SECTION is one of cli, spawn, journal, shipper, drain; without --only every
// section runs. `--only drain` times just the 100,000-event drain, for
// iterating on the shipper.

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "core/build_info.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/spawn.h"
#include "http/transport.h"
#include "shipper/drain.h"
#include "store/journal.h"
#include "store/ship_lock.h"
#include "support/posthog_sink.h"
#include "support/process.h"

extern char** environ;

namespace {

using namespace arcade;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Sample {
    double wall_ms = 0;
    double cpu_ms = 0;  // user + system of the child
    long max_rss_kb = 0;  // the child's peak resident set
};

// User + system CPU of this whole process (every thread) so far, in ms.
double process_cpu_ms() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
double p95(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(v.size() * 0.95))];
}

std::vector<char*> cstrings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Runs argv with env, stdio on /dev/null; wall time and the child's CPU.
Sample run_timed(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
    std::vector<std::string> envs;
    for (auto& [k, v] : env) envs.push_back(k + "=" + v);
    auto a = cstrings(argv);
    auto e = cstrings(envs);
    auto start = Steady::now();
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execve(a[0], a.data(), e.data());
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    Sample s;
    s.wall_ms = std::chrono::duration<double, std::milli>(Steady::now() - start).count();
    s.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
    s.max_rss_kb = ru.ru_maxrss;
    return s;
}

void wait_idle(const fs::path& dir) {
    for (int i = 0; i < 600 && store::ShipLock::is_held_elsewhere(dir / "ship.lock"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

struct Paired {
    std::vector<double> on_wall, off_wall, diff_wall, on_cpu, off_cpu, diff_cpu;
    long on_rss_kb = 0, off_rss_kb = 0;  // peaks

    void add(const Sample& on, const Sample& off) {
        on_wall.push_back(on.wall_ms);
        off_wall.push_back(off.wall_ms);
        diff_wall.push_back(on.wall_ms - off.wall_ms);
        on_cpu.push_back(on.cpu_ms);
        off_cpu.push_back(off.cpu_ms);
        diff_cpu.push_back(on.cpu_ms - off.cpu_ms);
        on_rss_kb = std::max(on_rss_kb, on.max_rss_kb);
        off_rss_kb = std::max(off_rss_kb, off.max_rss_kb);
    }
};

// Alternates tracked and untracked runs of the same command so drift in the
// machine's load hits both sides alike; the figure that matters is the
// median of the per-pair differences.
// With `one_at_a_time`, each run waits until the shippers started before it
// are gone, as when a person types commands seconds apart: every tracked run
// then starts a shipper of its own (back to back, one shipper serves many).
Paired paired_runs(const std::string& arcade, std::map<std::string, std::string> env, int runs,
                   const std::vector<std::string>& args, const fs::path& dir, bool one_at_a_time = false) {
    Paired p;
    auto off_env = env;
    off_env["ARCADE_USAGE_TRACKING"] = "0";
    std::vector<std::string> argv = {arcade};
    argv.insert(argv.end(), args.begin(), args.end());
    for (int i = 0; i < 5; ++i) run_timed(argv, env), run_timed(argv, off_env);  // warm caches
    wait_idle(dir);
    auto settle = [&] {
        if (one_at_a_time) testing::wait_detached_gone(env.at("ARCADE_WORK_DIR"));
    };
    for (int i = 0; i < runs; ++i) {
        Sample on, off;
        if (i % 2) {
            settle();
            on = run_timed(argv, env);
            settle();
            off = run_timed(argv, off_env);
        } else {
            settle();
            off = run_timed(argv, off_env);
            settle();
            on = run_timed(argv, env);
        }
        p.add(on, off);
    }
    wait_idle(dir);
    return p;
}

void print_paired(const char* label, const Paired& p) {
    std::printf("| %s | %.2f | %.2f | %.3f | %.3f | %.2f | %.2f | %.3f |\n", label, median(p.on_wall), median(p.off_wall),
                median(p.diff_wall), p95(p.diff_wall), median(p.on_cpu), median(p.off_cpu), median(p.diff_cpu));
}

std::map<std::string, std::string> base_env(const fs::path& work, const std::string& host) {
    return {{"ARCADE_WORK_DIR", work.string()},
            {"HOME", work.string()},
            {"PATH", "/usr/bin:/bin"},
            {"ARCADE_USAGE_POSTHOG_KEY", "phc_bench"},
            {"ARCADE_USAGE_POSTHOG_HOST", host}};
}

// Parent-side cost of starting a detached child: arcade's spawn_detached (a
// child sharing our memory until it execs), a plain fork, and posix_spawn
// (which waits until the child has exec'd). Not counted here: after a fork,
// every page the parent writes is copied once more.
void spawn_costs(int runs) {
    std::vector<double> arcade_ms, fork_ms, spawn_ms;
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < runs; ++i) {
        auto t0 = Steady::now();
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", nullptr);
            _exit(127);
        }
        fork_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        char arg0[] = "true";
        char* argv[] = {arg0, nullptr};
        t0 = Steady::now();
        posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ);
        spawn_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Last: each call leaves its child's small mapping behind (see
    // src/core/spawn.cpp), which would make the forks above copy more.
    for (int i = 0; i < runs; ++i) {
        auto t0 = Steady::now();
        arcade::spawn_detached("/bin/true", {}, arcade::Reap::by_kernel, arcade::SpawnMethod::shared_memory);
        arcade_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    signal(SIGCHLD, SIG_DFL);
    std::printf("\n## Starting a detached child (parent's cost, %d runs)\n\n", runs);
    std::printf("| method | median ms | p95 ms |\n|---|---|---|\n");
    std::printf("| arcade's spawn_detached (shares memory until exec; no wait on exec) | %.3f | %.3f |\n",
                median(arcade_ms), p95(arcade_ms));
    std::printf("| fork (no wait on exec) | %.3f | %.3f |\n", median(fork_ms), p95(fork_ms));
    std::printf("| posix_spawn (waits for exec) | %.3f | %.3f |\n", median(spawn_ms), p95(spawn_ms));
}

// What a first touch of a page costs here against mapping pages in bulk
// (MADV_POPULATE_WRITE): on virtual machines a page fault can cost 50x what
// it does on bare metal, which decides how a short-lived process should use
// memory (src/core/prefault.h).
void page_costs() {
    constexpr std::size_t kPages = 256;
    const std::size_t bytes = kPages * 4096;
    std::vector<double> fault_us, populate_us;
    for (int round = 0; round < 20; ++round) {
        auto* a = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        auto t0 = Steady::now();
        for (std::size_t i = 0; i < bytes; i += 4096) a[i] = 1;
        fault_us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / kPages);
        munmap(a, bytes);
        auto* b = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        t0 = Steady::now();
        madvise(b, bytes, 23 /* MADV_POPULATE_WRITE */);
        for (std::size_t i = 0; i < bytes; i += 4096) b[i] = 1;
        populate_us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / kPages);
        munmap(b, bytes);
    }
    std::printf("\nMemory: a first touch of a fresh page costs %.2f us (median of 20 x %zu pages); "
                "mapping pages in bulk with MADV_POPULATE_WRITE, then touching them, %.2f us per page.\n",
                median(fault_us), kPages, median(populate_us));
}

// What tracking adds to one `arcade --version`, offline and online, and an
// interpreter start for comparison.
void cli_costs(const std::string& arcade, const std::string& floor, int runs) {

    std::printf("\n## CLI cost per invocation (`arcade --version`), tracking on vs `ARCADE_USAGE_TRACKING=0`, "
                "%d interleaved pairs\n\n",
                runs);
    std::printf("| case | on wall ms (median) | off wall ms (median) | added wall ms (median of pairs) | "
                "added wall ms (p95 of pairs) | on CPU ms | off CPU ms | added CPU ms (median) |\n"
                "|---|---|---|---|---|---|---|---|\n");
    std::string after_table;
    {
        testing::TempDir work;
        // Offline: nothing listens, so after the first failure a backoff is in force and no shipper is spawned.
        auto env = base_env(work.path(), "http://127.0.0.1:9");
        run_timed({arcade, "--version"}, env);
        wait_idle(work.path() / ".arcade");
        auto p = paired_runs(arcade, env, runs, {"--version"}, work.path() / ".arcade");
        print_paired("offline (events queue, no spawn during backoff)", p);
    }
    {
        testing::PostHogSink sink;
        sink.start();
        testing::TempDir work;
        auto env = base_env(work.path(), sink.url());
        auto p = paired_runs(arcade, env, runs, {"--version"}, work.path() / ".arcade");
        print_paired("online, back to back (append; a shipper spawned only when none is running)", p);
        char line[256];
        std::snprintf(line, sizeof line,
                      "\n(online, back to back: %zu events delivered to the loopback sink in %zu requests; peak RSS "
                      "of `arcade --version` %ld KiB tracked, %ld KiB untracked)\n",
                      sink.accepted_count(), sink.requests().size(), p.on_rss_kb, p.off_rss_kb);
        after_table = line;
    }
    {
        testing::PostHogSink sink;
        sink.start();
        testing::TempDir work;
        auto env = base_env(work.path(), sink.url());
        auto p = paired_runs(arcade, env, std::min(runs, 60), {"--version"}, work.path() / ".arcade", true);
        print_paired("online, one command at a time (append + a detached shipper spawn every run)", p);
    }
    {
        // SPEC §7: another process holds the journal's write lock (a sqlite3
        // shell inside a transaction). Each tracked run waits the command's
        // 250 ms, then sets its event aside in a file of its own.
        testing::TempDir work;
        auto env = base_env(work.path(), "http://127.0.0.1:9");
        run_timed({arcade, "--version"}, env);
        wait_idle(work.path() / ".arcade");
        SQLite::Database other((work.path() / ".arcade" / "usage.db").string(), SQLite::OPEN_READWRITE);
        other.setBusyTimeout(5000);
        other.exec("BEGIN IMMEDIATE");
        auto p = paired_runs(arcade, env, std::min(runs, 40), {"--version"}, work.path() / ".arcade");
        other.exec("COMMIT");
        print_paired("journal locked by another process (wait 250 ms, then the event set aside)", p);
    }
    {
        // The floor: a minimal process appending one row to a one-table WAL
        // file, paired with the same binary returning at once. The WAL is
        // emptied before each pair, as the shipper leaves it when online.
        testing::TempDir work;
        std::string db = (work.path() / "floor.db").string();
        std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
        run_timed({floor, "create", db}, env);
        Paired p;
        for (int i = 0; i < runs; ++i) {
            run_timed({floor, "reset", db}, env);
            Sample on, off;
            if (i % 2) {
                on = run_timed({floor, "append", db}, env);
                off = run_timed({floor, "noop", db}, env);
            } else {
                off = run_timed({floor, "noop", db}, env);
                on = run_timed({floor, "append", db}, env);
            }
            p.add(on, off);
        }
        print_paired("floor: a minimal C++ process appending one row to a one-table WAL SQLite file, vs returning "
                     "at once (`sqlite-floor`)",
                     p);
    }
    std::fputs(after_table.c_str(), stdout);
    {
        testing::TempDir work;
        auto env = base_env(work.path(), "http://127.0.0.1:9");
        std::vector<double> py, py_cpu, base;
        for (int i = 0; i < std::min(runs, 50); ++i) {
            base.push_back(run_timed({"/bin/true"}, env).wall_ms);
            auto r = run_timed({"/usr/bin/python3", "-c", "pass"}, env);
            py.push_back(r.wall_ms);
            py_cpu.push_back(r.cpu_ms);
        }
        std::printf("\nFor comparison, the design this replaces starts a Python interpreter per invocation to send "
                    "the event; the interpreter's start alone (`python3 -c pass`, before any import or request) "
                    "costs %.2f ms wall and %.2f ms CPU (medians), on top of a detached spawn like arcade's "
                    "(below). `/bin/true`: %.2f ms wall.\n",
                    median(py), median(py_cpu), median(base));
    }
}

std::int64_t dir_bytes(const fs::path& dir) {
    std::int64_t n = 0;
    for (auto name : {"usage.db", "usage.db-wal"}) {
        std::error_code ec;
        auto s = fs::file_size(dir / name, ec);
        if (!ec) n += static_cast<std::int64_t>(s);
    }
    return n;
}

std::string sample_properties(int i) {
    return "{\"command_name\":\"worker.list\",\"cli_version\":\"0.1.0\",\"runtime_language\":\"cpp\","
           "\"runtime_version\":\"g++ 12.2.0\",\"os_type\":\"Linux\",\"os_release\":\"6.1.0-27-amd64\","
           "\"duration_ms\":" + std::to_string(40 + i % 50) +
           ",\"device_start_timestamp\":12345.678,\"device_end_timestamp\":12345.721,"
           "\"$lib\":\"arcade-cli\",\"$lib_version\":\"0.1.0\",\"$geoip_disable\":true}";
}

void queue(const fs::path& dir, int n) {
    ensure_private_dir(dir);
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_write);
    // The product caps pending events at 10,000 (SPEC §5); the throughput
    // figure asks for 100,000, so the benchmark lifts the cap.
    store::Retention unbounded;
    unbounded.max_pending = 1'000'000;
    open.journal->set_retention(unbounded);
    for (int i = 0; i < n; ++i)
        open.journal->append([&](const store::Identity& id) {
            store::NewEvent e;
            e.event = "CLI execution succeeded";
            e.distinct_id = id.anon_id;
            e.properties = sample_properties(i);
            return e;
        });
    open.journal->checkpoint();
}

// SPEC §4's per-command identity check (a stat of usage.json and
// credentials.yaml, contents read only when changed), logged in, offline so
// no shipper runs: this build's `arcade --version` against `base` (another
// build's), interleaved, each in a home of its own (their journal schemas
// may differ). Rows: linked (usage.json linked as the Python CLI leaves it),
// and logged in but not linked (the Cloud unreachable).
void identity_costs(const std::string& arcade, const std::string& base, int runs) {
    std::printf("\n## Identity check per invocation (`arcade --version`, logged in, offline), this build vs %s, "
                "%d interleaved pairs\n\n",
                base.empty() ? "itself (no --base-bin)" : ("`" + base + "`").c_str(), runs);
    std::printf("| case | new wall ms (median) | old wall ms (median) | new - old wall ms (median of pairs) | "
                "new CPU ms (median) | old CPU ms (median) | new - old CPU ms (median of pairs) |\n"
                "|---|---|---|---|---|---|---|\n");
    const std::string old_bin = base.empty() ? arcade : base;
    for (bool linked : {true, false}) {
        testing::TempDir new_home, old_home;
        auto setup = [&](const std::string& bin, const fs::path& home) {
            auto env = base_env(home, "http://127.0.0.1:9");
            env["ARCADE_CLOUD_URL"] = "http://127.0.0.1:9";  // a lookup must never leave the machine
            env["ARCADE_ENGINE_URL"] = "http://127.0.0.1:9";
            run_timed({bin, "--version"}, env);
            wait_idle(home / ".arcade");
            std::ofstream(home / ".arcade" / "credentials.yaml")
                << "cloud:\n  api:\n    key: arc_bench_key_0123456789\n  user:\n    email: bench@example.com\n";
            fs::permissions(home / ".arcade" / "credentials.yaml", fs::perms::owner_read | fs::perms::owner_write);
            if (linked)
                std::ofstream(home / ".arcade" / "usage.json")
                    << "{\n  \"anon_id\": \"11111111-2222-4333-8444-555555555555\",\n  \"linked_principal_id\": "
                       "\"principal-bench\"\n}";
            // Past the racy window, then one run to adopt the files.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            run_timed({bin, "--version"}, env);
            run_timed({bin, "--version"}, env);
            wait_idle(home / ".arcade");
            return env;
        };
        auto new_env = setup(arcade, new_home.path());
        auto old_env = setup(old_bin, old_home.path());
        std::vector<double> nw, ow, dw, nc, oc, dc;
        for (int i = 0; i < runs; ++i) {
            Sample n, o;
            if (i % 2) {
                n = run_timed({arcade, "--version"}, new_env);
                o = run_timed({old_bin, "--version"}, old_env);
            } else {
                o = run_timed({old_bin, "--version"}, old_env);
                n = run_timed({arcade, "--version"}, new_env);
            }
            nw.push_back(n.wall_ms);
            ow.push_back(o.wall_ms);
            dw.push_back(n.wall_ms - o.wall_ms);
            nc.push_back(n.cpu_ms);
            oc.push_back(o.cpu_ms);
            dc.push_back(n.cpu_ms - o.cpu_ms);
        }
        std::printf("| %s | %.3f | %.3f | %+.3f | %.3f | %.3f | %+.3f |\n",
                    linked ? "linked (usage.json linked, key login)" : "logged in, not linked (Cloud unreachable)",
                    median(nw), median(ow), median(dw), median(nc), median(oc), median(dc));
    }
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 200, drain_events = 100000;
    fs::path bin = fs::path(argv[0]).parent_path();
    std::string base_bin;
    std::string only;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k == "--runs") runs = std::stoi(argv[i + 1]);
        else if (k == "--drain-events") drain_events = std::stoi(argv[i + 1]);
        else if (k == "--bin") bin = argv[i + 1];
        else if (k == "--base-bin") base_bin = (fs::path(argv[i + 1]) / "arcade").string();
        else if (k == "--only") only = argv[i + 1];
    }
    const std::vector<std::string> sections = {"cli", "spawn", "journal", "shipper", "drain"};
    if (!only.empty() && std::find(sections.begin(), sections.end(), only) == sections.end()) {
        std::fprintf(stderr, "arcade-bench: --only takes one of cli, spawn, journal, shipper, drain\n");
        return 2;
    }
    auto wanted = [&](const char* section) { return only.empty() || only == section; };
    std::string arcade = (bin / "arcade").string();
    std::string shipper = (bin / "arcade-ship").string();

    utsname u{};
    uname(&u);
    std::printf("# arcade benchmarks\n\nMachine: %s %s, %u cores; arcade %s; %s\n", u.sysname, u.release,
                std::thread::hardware_concurrency(), build::kVersion, __VERSION__);

    if (wanted("cli")) {
        page_costs();
        cli_costs(arcade, (fs::path(argv[0]).parent_path() / "sqlite-floor").string(), runs);
        identity_costs(arcade, base_bin, runs);
    }

    if (wanted("spawn")) spawn_costs(std::min(runs, 200));

    if (wanted("journal")) {
        std::printf("\n## Journal\n\n");
        testing::TempDir work;
        auto dir = work.path() / ".arcade";
        auto t0 = Steady::now();
        queue(dir, 10000);
        double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        std::printf("| measure | value |\n|---|---|\n");
        std::printf("| journal bytes after 10,000 events (db + WAL, checkpointed) | %lld (%.0f bytes/event) |\n",
                    static_cast<long long>(dir_bytes(dir)), dir_bytes(dir) / 10000.0);
        std::printf("| append through the journal API (one transaction each) | %.3f ms/event |\n", ms / 10000.0);
        auto env = base_env(work.path(), "http://127.0.0.1:9");
        std::vector<double> st, st_cpu;
        long st_rss = 0;
        for (int i = 0; i < 20; ++i) {
            auto r = run_timed({arcade, "usage", "status", "--json"}, env);
            st.push_back(r.wall_ms);
            st_cpu.push_back(r.cpu_ms);
            st_rss = std::max(st_rss, r.max_rss_kb);
        }
        std::printf("| `arcade usage status --json` with 10,000 pending | %.2f ms wall, %.2f ms CPU (medians), "
                    "peak RSS %ld KiB |\n",
                    median(st), median(st_cpu), st_rss);
    }

    if (wanted("shipper") || wanted("drain")) std::printf("\n## Shipper\n\n| measure | value |\n|---|---|\n");
    if (wanted("shipper")) {
        testing::PostHogSink sink;
        sink.start();
        std::vector<double> cpu, wall;
        long rss = 0, big_rss = 0;
        for (int i = 0; i < 20; ++i) {
            testing::TempDir work;
            queue(work.path() / ".arcade", 1);
            auto s = run_timed({shipper}, base_env(work.path(), sink.url()));
            cpu.push_back(s.cpu_ms);
            wall.push_back(s.wall_ms);
            rss = std::max(rss, s.max_rss_kb);
        }
        {
            testing::TempDir work;
            queue(work.path() / ".arcade", 10000);
            big_rss = run_timed({shipper}, base_env(work.path(), sink.url())).max_rss_kb;
        }
        std::printf("| one `arcade-ship` run delivering 1 event: CPU | %.2f ms median |\n", median(cpu));
        std::printf("| same, wall (includes the 300 ms linger for late rows) | %.0f ms median |\n", median(wall));
        std::printf("| `arcade-ship` peak RSS: delivering 1 event / 10,000 events | %ld KiB / %ld KiB |\n", rss,
                    big_rss);
    }
    if (wanted("drain")) {
        testing::PostHogSink sink;
        sink.start();
        testing::TempDir work;
        auto dir = work.path() / ".arcade";
        queue(dir, drain_events);
        auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_write);
        store::Retention unbounded;
        unbounded.max_pending = 1'000'000;
        open.journal->set_retention(unbounded);
        auto transport = http::make_curl_transport("arcade-cli/bench");
        shipper::DrainConfig cfg;
        cfg.posthog_host = sink.url();
        cfg.api_key = "phc_bench";
        cfg.deadline = system_clock().monotonic() + std::chrono::minutes(2);
        double cpu0 = process_cpu_ms();
        auto t0 = Steady::now();
        auto report = shipper::drain(*open.journal, *transport, system_clock(), cfg);
        double s = std::chrono::duration<double>(Steady::now() - t0).count();
        double cpu_s = (process_cpu_ms() - cpu0) / 1000.0;
        std::size_t wire = 0;
        for (auto& r : sink.requests()) wire += r.body_bytes;
        std::printf("| drain %d queued events to the sink | %.2f s (%.0f events/s), %lld delivered in %lld requests |\n",
                    drain_events, s, report.delivered / s, static_cast<long long>(report.delivered),
                    static_cast<long long>(report.requests));
        std::printf("| same, CPU (user + sys of shipper and sink, which share the process) | %.2f s |\n", cpu_s);
        std::printf("| bytes on the wire per event (gzip) | %.1f |\n",
                    report.delivered ? static_cast<double>(wire) / static_cast<double>(report.delivered) : 0.0);
    }
    return 0;
}
