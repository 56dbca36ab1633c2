#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/spawn.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

// The parent exits right after starting the child, before the child has
// exec'd: the race every CLI run has with the arcade-ship it starts.
TEST_CASE("every detached child runs, in a session of its own with stdio on /dev/null, whatever its parent does next",
          "[core][spawn]") {
    const char* reap = GENERATE("kernel", "init");
    const char* method = GENERATE("fork", "shared_memory");  // the plain way and the trick
    const int runs = 60;
    fs::path dir =
        fs::temp_directory_path() / ("arcade-spawn-" + std::to_string(::getpid()) + "-" + reap + "-" + method);
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::path report = dir / "children";
    for (int i = 0; i < runs; ++i) {
        std::string cmd = std::string(SPAWN_PROBE_PATH) + " " + reap + " " + method + " '" + report.string() + "'";
        REQUIRE(std::system(cmd.c_str()) == 0);
    }
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (lines_of(report).size() < static_cast<std::size_t>(runs) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    auto lines = lines_of(report);
    INFO("reap by " << reap << ", " << method);
    CHECK(lines.size() == static_cast<std::size_t>(runs));
    for (const auto& line : lines) {
        std::istringstream in(line);
        std::string pid, sid, in_to, out_to;
        in >> pid >> sid >> in_to >> out_to;
        INFO(line);
        CHECK(sid == pid);
        CHECK(in_to == "/dev/null");
        CHECK(out_to == "/dev/null");
    }
    fs::remove_all(dir);
}

TEST_CASE("arcade-ship is found beside the running executable, never through the current directory", "[core][spawn]") {
    auto beside = arcade::shipper_path();
    REQUIRE_FALSE(beside.empty());
    CHECK(beside.front() == '/');
    CHECK(fs::path(beside).filename() == "arcade-ship");
    CHECK(fs::path(beside).parent_path() == fs::read_symlink("/proc/self/exe").parent_path());
    // Without /proc (a container, a chroot) there is no safe answer: none,
    // rather than a bare name that exec would look up in the current directory.
    CHECK(arcade::shipper_path("/nonexistent/proc/self/exe").empty());
}
