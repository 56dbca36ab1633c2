// JournalWatch: what a shipper waiting for rows sleeps on. Its promise is
// only to wake the shipper (a missed or spurious sign costs latency, never a
// row), so these tests check that a write to the journal's files, a
// set-aside event and a try for ship.lock each wake it promptly, and that
// a tracked command's lock probe does not ask it to leave.
#include "store/journal_watch.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "store/set_aside.h"
#include "store/ship_lock.h"
#include "support/process.h"

using arcade::ConfigPaths;
using arcade::store::JournalWatch;
using arcade::store::ShipLock;
using arcade::testing::TempDir;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

// Runs `act` 100 ms into a wait of up to 5 s; the sign and how long it took.
std::pair<JournalWatch::Sign, std::chrono::milliseconds> wait_for(JournalWatch& watch, const std::function<void()>& act) {
    auto t0 = Steady::now();
    auto later = std::async(std::launch::async, [&] {
        std::this_thread::sleep_for(100ms);
        act();
    });
    auto sign = watch.wait(5000ms);
    later.get();
    return {sign, std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t0)};
}

void append_to(const std::filesystem::path& file) {
    std::ofstream(file, std::ios::app) << "frame";
}

}  // namespace

TEST_CASE("the inotify watch wakes for journal writes, set-aside events and lock tries, not for probes", "[store]") {
    TempDir tmp;
    ConfigPaths paths{tmp.path()};
    append_to(paths.journal().string() + "-wal");
    append_to(paths.ship_lock());
    JournalWatch watch(paths, true);
    REQUIRE(watch.uses_inotify());

    SECTION("nothing happens: elapsed after the time asked") {
        auto t0 = Steady::now();
        CHECK(watch.wait(200ms) == JournalWatch::Sign::elapsed);
        CHECK(Steady::now() - t0 >= 200ms);
    }
    SECTION("a WAL write") {
        auto [sign, took] = wait_for(watch, [&] { append_to(paths.journal().string() + "-wal"); });
        CHECK(sign == JournalWatch::Sign::maybe_rows);
        CHECK(took < 1000ms);
    }
    SECTION("a set-aside event, folder made while waiting") {
        auto [sign, took] = wait_for(watch, [&] { ::mkdir(arcade::store::set_aside_dir(paths).c_str(), 0700); });
        CHECK(sign == JournalWatch::Sign::maybe_rows);
        auto [sign2, took2] = wait_for(watch, [&] {
            append_to(arcade::store::set_aside_dir(paths) / "tmp");
            std::filesystem::rename(arcade::store::set_aside_dir(paths) / "tmp",
                                    arcade::store::set_aside_dir(paths) / "1-a.json");
        });
        CHECK(sign2 == JournalWatch::Sign::maybe_rows);
        CHECK(took2 < 1000ms);
    }
    SECTION("another process tries ship.lock (usage flush waiting for it)") {
        auto [sign, took] = wait_for(watch, [&] { (void)ShipLock::try_acquire(paths.ship_lock()); });
        CHECK(sign == JournalWatch::Sign::lock_wanted);
        CHECK(took < 1000ms);
    }
    SECTION("asked to step aside") {
        auto [sign, took] = wait_for(watch, [&] { ShipLock::ask_holder_to_step_aside(paths.ship_lock()); });
        CHECK(sign == JournalWatch::Sign::lock_wanted);
    }
    SECTION("a tracked command's probe is not a try") {
        auto t0 = Steady::now();
        auto later = std::async(std::launch::async, [&] {
            std::this_thread::sleep_for(50ms);
            (void)ShipLock::is_held_quick(paths.ship_lock());
            (void)ShipLock::is_held_elsewhere(paths.ship_lock());
            (void)ShipLock::is_held_elsewhere(paths.ship_lock(), tmp.path() / "no-such-lock-table");
        });
        auto sign = watch.wait(400ms);
        later.get();
        CHECK(sign == JournalWatch::Sign::elapsed);
        CHECK(Steady::now() - t0 >= 400ms);
    }
}

TEST_CASE("the poll twin wakes every poll interval and never reports a lock try", "[store]") {
    TempDir tmp;
    ConfigPaths paths{tmp.path()};
    JournalWatch watch(paths, false);
    CHECK_FALSE(watch.uses_inotify());
    auto t0 = Steady::now();
    CHECK(watch.wait(5000ms) == JournalWatch::Sign::maybe_rows);
    CHECK(Steady::now() - t0 < 1000ms);
    CHECK(watch.wait(10ms) == JournalWatch::Sign::elapsed);
}
