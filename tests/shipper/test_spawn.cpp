#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "../cli/cli_harness.h"
#include "support/posthog_sink.h"

using namespace arcade::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session.
struct ProcStat {
    char state = '?';
    int ppid = 0, pgrp = 0, session = 0;
};

std::optional<ProcStat> proc_stat(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(close + 2));
    ProcStat s;
    rest >> s.state >> s.ppid >> s.pgrp >> s.session;
    return s;
}

// arcade-ship processes working for `work_dir` (other tests run in parallel
// and have shippers of their own).
std::vector<int> shipper_pids(const fs::path& work_dir) { return processes_for_work_dir(work_dir, "arcade-ship"); }

}  // namespace

TEST_CASE("the shipper is started fully detached", "[shipper]") {
    PostHogSink sink;
    sink.script(parse_script("hang"));  // keep the shipper alive while we look at it
    sink.start();
    Arcade a(sink.url());
    // A descriptor the CLI inherits without close-on-exec: the shipper must not get it.
    auto leak_path = a.path() / "inherited-marker";
    int leaked = ::open(leak_path.c_str(), O_CREAT | O_RDWR, 0600);
    REQUIRE(leaked >= 0);
    auto before = shipper_pids(a.path());
    auto r = a.run({"--version"});
    ::close(leaked);
    CHECK(r.exit_code == 0);

    int pid = 0;
    for (int i = 0; i < 200 && pid == 0; ++i) {
        for (int p : shipper_pids(a.path()))
            if (std::find(before.begin(), before.end(), p) == before.end()) pid = p;
        if (pid == 0) std::this_thread::sleep_for(10ms);
    }
    REQUIRE(pid != 0);
    auto st = proc_stat(pid);
    REQUIRE(st);
    CHECK(st->session == pid);        // a session of its own: no terminal signals reach it
    CHECK(st->ppid != ::getpid());    // the CLI that started it is gone; init adopted it
    for (int fd = 0; fd <= 2; ++fd)
        CHECK(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd)) == "/dev/null");
    for (auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        auto target = fs::read_symlink(entry.path(), ec);
        CHECK(target != leak_path);
    }
    sink.stop();  // ends the hang; the shipper exits on its own
    // Its parent is init, which reaps it: the process disappears entirely
    // instead of lingering as a zombie of a CLI that never waits.
    for (int i = 0; i < 600 && fs::exists("/proc/" + std::to_string(pid)); ++i) std::this_thread::sleep_for(20ms);
    CHECK_FALSE(fs::exists("/proc/" + std::to_string(pid)));
}

TEST_CASE("no shipper is spawned while one holds the lock, in debug mode, or with tracking off", "[shipper]") {
    PostHogSink sink;
    sink.start();
    Arcade a(sink.url());
    SECTION("tracking off") {
        a.env["DO_NOT_TRACK"] = "1";
    }
    SECTION("debug mode") {
        a.env["ARCADE_USAGE_DEBUG"] = "1";
    }
    auto before = shipper_pids(a.path()).size();
    for (int i = 0; i < 5; ++i) a.run({"--version"});
    std::this_thread::sleep_for(200ms);
    CHECK(shipper_pids(a.path()).size() == before);
    CHECK(sink.requests().empty());
}
