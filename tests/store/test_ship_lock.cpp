// ShipLock's probe: every tracked command asks "is a shipper running?"
// before spawning one, so the probe must see a lock another process holds,
// and must never take the lock itself: a shipper starting at that instant
// (ShipLock::try_acquire, no retry) would otherwise give up.
#include "store/ship_lock.h"

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/process.h"

using arcade::store::ShipLock;
using arcade::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// A child process that holds `path`'s lock until killed. The constructor
// returns once the lock is held.
class Holder {
public:
    explicit Holder(const std::filesystem::path& path) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(ready[0]);
            auto lock = ShipLock::try_acquire(path);
            char ok = lock.held() ? '1' : '0';
            [[maybe_unused]] auto n = ::write(ready[1], &ok, 1);
            for (;;) ::pause();
        }
        ::close(ready[1]);
        char ok = 0;
        REQUIRE(::read(ready[0], &ok, 1) == 1);
        ::close(ready[0]);
        REQUIRE(ok == '1');
    }
    ~Holder() { stop(); }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

// Runs the probe in a child so that a probe which blocks fails the test
// instead of hanging it: 1 held, 0 free, -1 still blocked after 5 s.
int probe_in_child(const std::filesystem::path& path, const std::filesystem::path& lock_table) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(ShipLock::is_held_elsewhere(path, lock_table) ? 1 : 0);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            return -1;
        }
        std::this_thread::sleep_for(5ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("the probe sees a lock another process holds, and sees it go", "[store]") {
    // The kernel's lock table, and the fallback where it cannot be read.
    const std::string table = GENERATE(std::string("/proc/locks"), std::string("/nonexistent/locks"));
    INFO("lock table: " << table);
    TempDir tmp;
    const auto path = tmp.path() / "ship.lock";
    CHECK_FALSE(ShipLock::is_held_elsewhere(path, table));  // no file yet
    Holder holder(path);
    CHECK(ShipLock::is_held_elsewhere(path, table));
    holder.stop();
    CHECK_FALSE(ShipLock::is_held_elsewhere(path, table));
    CHECK(ShipLock::try_acquire(path).held());
}

TEST_CASE("the quick probe sees a lock another process holds, and sees it go; odd files read as free", "[store]") {
    TempDir tmp;
    const auto path = tmp.path() / "ship.lock";
    CHECK_FALSE(ShipLock::is_held_quick(path));  // no file yet
    Holder holder(path);
    CHECK(ShipLock::is_held_quick(path));
    holder.stop();
    CHECK_FALSE(ShipLock::is_held_quick(path));
    CHECK(ShipLock::try_acquire(path).held());
    // A FIFO (finding 2) or a symlink: "not held", at once.
    const auto fifo = tmp.path() / "fifo.lock";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_FALSE(ShipLock::is_held_quick(fifo));
    std::filesystem::create_symlink(path, tmp.path() / "link.lock");
    CHECK_FALSE(ShipLock::is_held_quick(tmp.path() / "link.lock"));
}

TEST_CASE("probing never turns away a process taking the lock", "[store]") {
    // A shipper releases and retakes the lock between rounds, and a new one
    // takes it once with no retry. Here a child does that over and over for
    // half a second while this process probes as fast as it can: a probe
    // that took the lock, even for an instant, would make some takes fail.
    TempDir tmp;
    const auto path = tmp.path() / "ship.lock";
    int go[2], result[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(result) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(go[1]);
        ::close(result[0]);
        char byte = 0;
        if (::read(go[0], &byte, 1) != 1) ::_exit(1);
        int counts[2] = {0, 0};  // takes, refused
        for (auto until = std::chrono::steady_clock::now() + 500ms; std::chrono::steady_clock::now() < until;) {
            auto lock = ShipLock::try_acquire(path);
            ++counts[0];
            if (!lock.held()) ++counts[1];
        }
        [[maybe_unused]] auto n = ::write(result[1], counts, sizeof counts);
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(result[1]);
    REQUIRE(::write(go[1], "g", 1) == 1);
    int probes = 0, seen_held = 0;
    while (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ++probes;
        if (ShipLock::is_held_elsewhere(path)) ++seen_held;
    }
    int counts[2] = {0, -1};
    REQUIRE(::read(result[0], counts, sizeof counts) == sizeof counts);
    ::close(go[1]);
    ::close(result[0]);
    INFO(counts[0] << " takes, " << probes << " probes, " << seen_held << " saw the lock held");
    CHECK(seen_held > 0);
    CHECK(counts[1] == 0);
}

TEST_CASE("a FIFO or nothing at the lock's path never blocks the probe", "[store]") {
    const std::string table = GENERATE(std::string("/proc/locks"), std::string("/nonexistent/locks"));
    INFO("lock table: " << table);
    TempDir tmp;
    const auto path = tmp.path() / "ship.lock";
    SECTION("missing") { CHECK(probe_in_child(path, table) == 0); }
    SECTION("a FIFO with no writer") {
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        CHECK(probe_in_child(path, table) == 0);
    }
}

TEST_CASE("a ship.lock that is a symlink or not a file is refused at once, with the reason (issue 13, finding 14)",
          "[store]") {
    TempDir dir;
    const auto lock = dir.path() / "ship.lock";
    const std::string kind = GENERATE(as<std::string>{}, "symlink", "fifo", "directory");
    INFO(kind);
    if (kind == "symlink") std::filesystem::create_symlink(dir.path() / "target", lock);
    if (kind == "fifo") REQUIRE(::mkfifo(lock.c_str(), 0600) == 0);
    if (kind == "directory") std::filesystem::create_directory(lock);
    auto started = std::chrono::steady_clock::now();
    auto taken = ShipLock::acquire(lock, 5s);
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    CHECK_FALSE(taken.held());
    CHECK_FALSE(taken.problem().empty());
    CHECK(taken.why_not_held().find("another shipper") == std::string::npos);
    CHECK(ShipLock::problem_at(lock) == taken.problem());
    CHECK_FALSE(std::filesystem::exists(dir.path() / "target"));
}

TEST_CASE("a free or held ship.lock has no problem", "[store]") {
    TempDir dir;
    const auto lock = dir.path() / "ship.lock";
    CHECK(ShipLock::problem_at(lock).empty());
    auto first = ShipLock::try_acquire(lock);
    REQUIRE(first.held());
    CHECK(ShipLock::problem_at(lock).empty());
    Holder other(dir.path() / "other.lock");
    auto second = ShipLock::try_acquire(dir.path() / "other.lock");
    CHECK_FALSE(second.held());
    CHECK(second.problem().empty());
    CHECK(second.why_not_held() == "another shipper is running");
}
