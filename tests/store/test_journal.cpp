#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "core/credentials.h"
#include "core/files.h"
#include "core/time_format.h"
#include "core/uuid.h"
#include "store/connection.h"
#include "store/identity_file.h"
#include "store/journal.h"
#include "store/migrations.h"
#include "store/schema_check.h"
#include "store/set_aside.h"
#include "support/process.h"

using namespace arcade;
using arcade::testing::slurp;
using arcade::testing::TempDir;

namespace {

struct Fixture {
    TempDir tmp;
    ConfigPaths paths{tmp.path() / ".arcade"};
    FixedClock clock{1'790'000'000'000};
    Tricks tricks;
    // Logged in (a link is bound to a login, SPEC §4).
    explicit Fixture(Tricks t = {}) : tricks(t) {
        REQUIRE(ensure_private_dir(paths.dir));
        login("arc_fixture_key");
    }

    void login(const std::string& key) const {
        REQUIRE(save_credentials(paths.credentials(), {key, "fixture@example.com", std::nullopt}));
    }

    std::unique_ptr<store::Journal> open() {
        auto out = store::Journal::open(paths, clock, store::OpenMode::read_write, tricks);
        REQUIRE(out.status == store::OpenStatus::ok);
        return std::move(out.journal);
    }
};

store::StoredEvent append(store::Journal& j, const std::string& name = "CLI execution succeeded",
                          const std::string& props = R"({"command_name":"test"})") {
    return j.append([&](const store::Identity& id) {
        store::NewEvent e;
        e.event = name;
        e.distinct_id = id.principal_id.value_or(id.anon_id);
        e.properties = props;
        return e;
    });
}

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("a new journal is WAL, migrated to the latest schema and private", "[store]") {
    const bool plain = GENERATE(false, true);  // with the tricks, and with their plain twins
    CAPTURE(plain);
    Fixture f(plain ? Tricks{} : Tricks::all());
    auto j = f.open();
    CHECK(j->schema_version() == store::latest_schema_version());
    CHECK(store::latest_schema_version() == store::migrations().back().version);
    append(*j);
    CHECK(mode_of(f.paths.journal()) == 0600);
    CHECK(mode_of(f.paths.usage_json()) == 0600);
    CHECK(std::filesystem::exists(f.paths.dir / "usage.db-wal"));
}

TEST_CASE("a journal found in rollback mode is put back in WAL mode, its rows kept", "[store]") {
    const bool plain = GENERATE(false, true);  // with the tricks, and with their plain twins
    CAPTURE(plain);
    Fixture f(plain ? Tricks{} : Tricks::all());
    {
        auto j = f.open();
        append(*j);
    }
    {
        // Another tool (the sqlite3 shell, a restore) may leave the file in
        // rollback mode: its header then says so, and open must not trust a
        // stale belief that it is WAL.
        SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READWRITE);
        CHECK(db.execAndGet("PRAGMA journal_mode = DELETE").getString() == "delete");
    }
    auto header_versions = [&] {
        std::string h = slurp(f.paths.journal()).substr(0, 100);
        return std::make_pair(static_cast<int>(h[18]), static_cast<int>(h[19]));
    };
    CHECK(header_versions() == std::make_pair(1, 1));
    {
        auto j = f.open();
        append(*j);
        CHECK(j->pending(0, 10).size() == 2);
    }
    CHECK(header_versions() == std::make_pair(2, 2));
    SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("appended rows get a UUIDv7 and an RFC 3339 millisecond UTC timestamp fixed at append", "[store]") {
    Fixture f;
    auto j = f.open();
    auto row = append(*j);
    CHECK(is_uuid(row.uuid));
    CHECK(row.uuid[14] == '7');
    CHECK(row.timestamp == rfc3339_ms(f.clock.now_ms()));
    CHECK(std::regex_match(row.timestamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    auto pending = j->pending(0, 10);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].uuid == row.uuid);
    CHECK(pending[0].timestamp == row.timestamp);
    CHECK(pending[0].state == "pending");
}

TEST_CASE("the first append creates an identity and writes usage.json in the Python CLI's format", "[store]") {
    Fixture f;
    auto j = f.open();
    auto row = append(*j);
    auto id = j->identity();
    REQUIRE(id);
    CHECK(row.anon_id == id->anon_id);
    CHECK(slurp(f.paths.usage_json()) ==
          "{\n  \"anon_id\": \"" + id->anon_id + "\",\n  \"linked_principal_id\": null\n}");
    auto history = j->identity_history();
    REQUIRE(history.size() == 1);
    CHECK(history[0].transition == "created");
}

TEST_CASE("an existing usage.json without a journal is imported as is", "[store]") {
    Fixture f;
    std::string existing = "{\"anon_id\": \"11111111-2222-4333-8444-555555555555\", \"linked_principal_id\": \"usr_42\"}";
    REQUIRE(write_file_atomic(f.paths.usage_json(), existing));
    auto j = f.open();
    auto row = append(*j);
    CHECK(row.anon_id == "11111111-2222-4333-8444-555555555555");
    CHECK(row.distinct_id == "usr_42");
    auto history = j->identity_history();
    REQUIRE(history.size() == 1);
    CHECK(history[0].transition == "imported");
    CHECK(history[0].identity.principal_id == std::optional<std::string>("usr_42"));
}

TEST_CASE("a missing or corrupt usage.json is rebuilt from the journal", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    auto id = *j->identity();
    std::string expected = store::format_identity_json(id);
    std::string corrupt = GENERATE(std::string("garbage{"), std::string("[1,2,3]"), std::string("{\"anon_id\": true}"),
                                   std::string("{\"linked_principal_id\": null}"), std::string("{\"anon_id\": 1.5, \"linked_principal_id\": null}"),
                                   std::string("{\"anon_id\": \"null\"}"),
                                   std::string(10 * 1024 * 1024, 'x'), std::string());
    if (corrupt.empty()) std::filesystem::remove(f.paths.usage_json());
    else REQUIRE(write_file_atomic(f.paths.usage_json(), corrupt));
    append(*j);
    CHECK(slurp(f.paths.usage_json()) == expected);
    CHECK(j->identity()->anon_id == id.anon_id);
}

TEST_CASE("a usage.json replaced by a symlink is replaced, and the link's target is left unchanged", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    auto target = f.tmp.path() / "precious.txt";
    { std::ofstream(target) << "do not touch"; }
    std::filesystem::remove(f.paths.usage_json());
    std::filesystem::create_symlink(target, f.paths.usage_json());
    append(*j);
    CHECK(slurp(target) == "do not touch");
    CHECK_FALSE(std::filesystem::is_symlink(f.paths.usage_json()));
    CHECK(store::read_identity_file(f.paths.usage_json()).has_value());
}

TEST_CASE("a valid usage.json changed by another tool is adopted as an imported transition", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    store::Identity other{"99999999-2222-4333-8444-555555555555", std::nullopt};
    REQUIRE(write_file_atomic(f.paths.usage_json(), store::format_identity_json(other)));
    auto row = append(*j);
    CHECK(row.anon_id == other.anon_id);
    CHECK(j->identity_history().back().transition == "imported");
}

TEST_CASE("a journal from a newer schema is left untouched", "[store]") {
    Fixture f;
    {
        auto j = f.open();
        append(*j);
    }
    {
        // Simulate a future arcade having migrated the journal.
        auto j = f.open();
        (void)j;
    }
    std::string cmd = "sqlite3 '" + f.paths.journal().string() + "' 'PRAGMA user_version = 999'";
    if (std::system(cmd.c_str()) != 0) {
        WARN("sqlite3 command-line tool missing; bumping user_version by hand");
        std::fstream db(f.paths.journal(), std::ios::in | std::ios::out | std::ios::binary);
        db.seekp(60);
        const char v[4] = {0, 0, 0x03, static_cast<char>(0xe7)};
        db.write(v, 4);
    }
    std::string before = slurp(f.paths.journal());
    auto out = store::Journal::open(f.paths, f.clock, store::OpenMode::read_write);
    CHECK(out.status == store::OpenStatus::newer_schema);
    CHECK_FALSE(out.journal);
    CHECK(slurp(f.paths.journal()) == before);
}

TEST_CASE("garbage in usage.db makes the journal unusable without throwing", "[store]") {
    Fixture f;
    { std::ofstream(f.paths.journal()) << std::string(8192, 'z'); }
    auto out = store::Journal::open(f.paths, f.clock, store::OpenMode::read_write);
    CHECK(out.status == store::OpenStatus::unusable);
    CHECK_FALSE(out.reason.empty());
}

TEST_CASE("retention bounds drop and count rows", "[store]") {
    Fixture f;
    auto j = f.open();
    SECTION("the pending cap drops the oldest events first and never an alias") {
        REQUIRE(j->link("usr_1", [](const store::Identity&) { return std::string("{}"); }));
        for (int i = 0; i < 12; ++i) append(*j, "CLI execution succeeded", "{\"n\":" + std::to_string(i) + "}");
        store::Retention r;
        r.max_pending = 5;
        j->set_retention(r);
        j->enforce_retention();
        auto pending = j->pending(0, 100);
        REQUIRE(pending.size() == 5);
        CHECK(pending[0].kind == "alias");
        CHECK(pending.back().properties == "{\"n\":11}");
        CHECK(j->counts().dropped_cap == 8);
        CHECK(j->counts().dropped == 8);
    }
    SECTION("pending rows older than 30 days are dropped") {
        append(*j);
        f.clock.advance(std::chrono::days(31));
        append(*j);
        j->enforce_retention();
        CHECK(j->counts().pending == 1);
        CHECK(j->counts().dropped_age == 1);
    }
    SECTION("sent rows are pruned after 7 days") {
        auto row = append(*j);
        j->mark_sent({row.seq});
        f.clock.advance(std::chrono::days(6));
        j->enforce_retention();
        CHECK(j->counts().sent == 1);
        f.clock.advance(std::chrono::days(2));
        j->enforce_retention();
        CHECK(j->counts().sent == 0);
        CHECK(j->counts().pruned_sent == 1);
        CHECK(j->counts().dropped == 0);
    }
    SECTION("append alone keeps the pending count at the cap") {
        for (int i = 0; i < 10'003; ++i) {
            if (i % 2000 == 0) INFO(i);
            append(*j);
        }
        CHECK(j->counts().pending == 10'000);
        CHECK(j->counts().dropped_cap == 3);
    }
}

namespace {

// The kept pending counter and the real number of pending rows, read
// straight from the file.
std::pair<std::int64_t, std::int64_t> pending_counter_and_rows(const ConfigPaths& paths) {
    SQLite::Database db(paths.journal().string(), SQLite::OPEN_READONLY);
    return {db.execAndGet("SELECT value FROM counters WHERE name = 'pending'").getInt64(),
            db.execAndGet("SELECT COUNT(*) FROM events WHERE state = 'pending'").getInt64()};
}

}  // namespace

TEST_CASE("the pending counter equals the pending rows through every kind of change", "[store]") {
    Fixture f;
    auto j = f.open();
    auto same = [&](const char* after) {
        auto [counter, rows] = pending_counter_and_rows(f.paths);
        INFO("after " << after);
        CHECK(counter == rows);
        return rows;
    };
    std::vector<std::int64_t> seqs;
    for (int i = 0; i < 6; ++i) seqs.push_back(append(*j).seq);
    CHECK(same("append") == 6);
    REQUIRE(j->link("usr_1", [](const store::Identity&) { return std::string("{}"); }));
    CHECK(same("link (an alias row)") == 7);
    j->mark_sent({seqs[0], seqs[1], seqs[3]});
    j->mark_sent({seqs[0]});  // already sent: must not count twice
    CHECK(same("mark_sent") == 4);
    j->mark_dead(seqs[2], "test");
    j->mark_dead(seqs[2], "test");
    CHECK(same("mark_dead") == 3);
    f.clock.advance(std::chrono::days(31));
    append(*j);
    j->enforce_retention();  // the two old events go; the alias is never dropped
    CHECK(same("retention by age") == 2);
    store::Retention r;
    r.max_pending = 3;
    j->set_retention(r);
    for (int i = 0; i < 4; ++i) append(*j);
    CHECK(same("the cap") == 3);
    j->set_tracking_disabled(true);
    CHECK(same("disable") == 0);
    j->set_tracking_disabled(false);
    append(*j);
    CHECK(same("enable") == 1);
    j->purge(false);
    CHECK(same("purge") == 0);
    append(*j);
    CHECK(same("append after purge") == 1);
}

TEST_CASE("debug builds refuse to commit a write that leaves the pending counter wrong", "[store]") {
#ifdef NDEBUG
    WARN("the pending counter check runs in debug builds only");
#else
    Fixture f;
    auto j = f.open();
    append(*j);
    {
        // A statement outside the journal's RowMove, as a bug would write it.
        SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE events SET state = 'sent'");
    }
    CHECK_THROWS_AS(append(*j), store::JournalError);
    // The refused write was rolled back: still one row, now sent.
    CHECK(pending_counter_and_rows(f.paths) == std::make_pair<std::int64_t, std::int64_t>(1, 0));
#endif
}

TEST_CASE("a schema 1 journal is migrated: its triggers go and the pending counter is recounted", "[store]") {
    Fixture f;
    {
        // A journal as the first release left it, with a counter gone wrong.
        SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec(std::string(store::migrations().front().sql));
        db.exec("PRAGMA user_version = 1");
        for (int i = 0; i < 3; ++i)
            db.exec("INSERT INTO events (uuid, timestamp, created_ms, kind, event, distinct_id, anon_id, properties) "
                    "VALUES ('u" + std::to_string(i) + "', 't', 0, 'event', 'e', 'd', 'a', '{}')");
        db.exec("UPDATE counters SET value = 42 WHERE name = 'pending'");
    }
    auto j = f.open();
    CHECK(j->schema_version() == store::latest_schema_version());
    CHECK(pending_counter_and_rows(f.paths) == std::make_pair<std::int64_t, std::int64_t>(3, 3));
    SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger'").getInt() == 0);
}

TEST_CASE("link journals the transition and an alias row in the direction PostHog merges", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    auto anon = j->identity()->anon_id;
    REQUIRE(j->link("usr_7", [](const store::Identity& before) { return "{\"alias\":\"" + before.anon_id + "\"}"; }));
    CHECK_FALSE(j->link("usr_7", [](const store::Identity&) { return std::string("{}"); }));
    CHECK_FALSE(j->link("null", [](const store::Identity&) { return std::string("{}"); }));
    auto rows = j->pending(0, 10);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].kind == "alias");
    CHECK(rows[1].event == "$create_alias");
    CHECK(rows[1].distinct_id == "usr_7");
    CHECK(rows[1].properties == "{\"alias\":\"" + anon + "\"}");
    CHECK(store::read_identity_file(f.paths.usage_json())->principal_id == std::optional<std::string>("usr_7"));

    auto fresh = j->rotate();
    CHECK(fresh.anon_id != anon);
    CHECK_FALSE(fresh.principal_id);
    CHECK(j->identity_history().back().transition == "rotated");
    CHECK(*store::read_identity_file(f.paths.usage_json()) == fresh);
}

TEST_CASE("refused distinct ids are recognised", "[store]") {
    auto id = GENERATE(as<std::string>{}, "", "  ", "null", "None", "0", "anonymous", "ANONYMOUS", "undefined",
                       "\"null\"", "'guest'", "[object Object]", "NaN", "distinct_id", "email", "true");
    CHECK(store::is_refused_distinct_id(id));
    CHECK_FALSE(store::is_refused_distinct_id("usr_123"));
    CHECK_FALSE(store::is_refused_distinct_id("Null"));  // only the exact spelling is refused
}

TEST_CASE("mark_sent, mark_dead and attempts move rows out of the queue", "[store]") {
    Fixture f;
    auto j = f.open();
    auto a = append(*j), b = append(*j), c = append(*j);
    j->add_attempt({a.seq, b.seq});
    j->mark_sent({a.seq});
    j->mark_dead(b.seq, "empty event name");
    auto counts = j->counts();
    CHECK(counts.pending == 1);
    CHECK(counts.sent == 1);
    CHECK(counts.dead == 1);
    auto all = j->events(10);
    REQUIRE(all.size() == 3);
    CHECK(all[1].dead_reason == std::optional<std::string>("empty event name"));
    CHECK(all[1].attempts == 1);
    CHECK(j->pending(0, 10)[0].seq == c.seq);
    CHECK(j->pending(c.seq, 10).empty());
}

TEST_CASE("mark_sent marks exactly the rows it is given, consecutive or not", "[store]") {
    Fixture f;
    auto j = f.open();
    std::vector<std::int64_t> seq;
    for (int i = 0; i < 8; ++i) seq.push_back(append(*j).seq);
    j->mark_dead(seq[2], "empty event name");
    // Runs [0,1], a dead row inside [2], a gap [4], out of order and repeated.
    j->mark_sent({seq[0], seq[1], seq[2], seq[3], seq[7], seq[5], seq[5]});
    std::vector<std::string> states;
    for (auto& e : j->events(10)) states.push_back(e.state);
    CHECK(states == std::vector<std::string>{"sent", "sent", "dead", "sent", "pending", "sent", "pending", "sent"});
    CHECK(j->counts().pending == 2);
    j->mark_sent({});
    CHECK(j->counts().pending == 2);
}

TEST_CASE("purge leaves no trace of purged content in any file of the config dir", "[store]") {
    Fixture f;
    const std::string marker = "PURGE-MARKER-" + uuid_v4();
    auto j = f.open();
    for (int i = 0; i < 50; ++i) append(*j, "CLI execution failed", "{\"error_message\":\"" + marker + "\"}");
    auto row = append(*j);
    j->mark_sent({row.seq});
    auto contains_marker = [&] {
        for (auto& entry : std::filesystem::directory_iterator(f.paths.dir))
            if (slurp(entry.path()).find(marker) != std::string::npos) return true;
        return false;
    };
    REQUIRE(contains_marker());  // the check itself can see the marker
    bool all = GENERATE(false, true);
    j->purge(all);
    CHECK_FALSE(contains_marker());
    CHECK(j->counts().pending == 0);
    CHECK(j->counts().sent == 0);
    CHECK(j->identity().has_value() == !all);
    CHECK(std::filesystem::exists(f.paths.usage_json()) == !all);
}

namespace {
std::uintmax_t wal_bytes(const Fixture& f) {
    std::error_code ec;
    auto n = std::filesystem::file_size(f.paths.dir / "usage.db-wal", ec);
    return ec ? 0 : n;
}
constexpr std::uintmax_t kFrameBytes = 4096 + 24;
}  // namespace

TEST_CASE("a CLI's WAL limit keeps the WAL small while nobody else checkpoints", "[store]") {
    Fixture f;
    std::uintmax_t largest = 0;
    for (int i = 0; i < 150; ++i) {
        auto j = f.open();  // a new process each time, as the CLI is
        j->limit_wal(30);
        append(*j);
        CHECK(j->wal_frames() < 30);
        largest = std::max(largest, wal_bytes(f));
    }
    // Without the limit the WAL would hold every command's frames (~5 each).
    CHECK(largest < 40 * kFrameBytes);
    CHECK(f.open()->counts().pending == 150);
}

TEST_CASE("checkpoint empties the WAL into the database and starts a fresh one", "[store]") {
    Fixture f;
    {
        auto j = f.open();
        for (int i = 0; i < 50; ++i) append(*j);
        REQUIRE(wal_bytes(f) > 50 * kFrameBytes);
        j->checkpoint();
        // One small write after truncating: the fresh WAL's header (and its
        // fsyncs) are paid here, not by the next CLI.
        CHECK(wal_bytes(f) > 0);
        CHECK(wal_bytes(f) <= 32 + 2 * kFrameBytes);
    }
    CHECK(f.open()->counts().pending == 50);
}

TEST_CASE("a write waits for another connection's lock and goes on once it is released", "[store]") {
    const bool plain = GENERATE(false, true);  // with the tricks, and with their plain twins
    CAPTURE(plain);
    Fixture f(plain ? Tricks{} : Tricks::all());
    auto j = f.open();
    append(*j);
    SQLite::Database other(f.paths.journal().string(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        other.exec("COMMIT");
    });
    auto t0 = std::chrono::steady_clock::now();
    CHECK_NOTHROW(append(*j));
    auto waited = std::chrono::steady_clock::now() - t0;
    release.join();
    CHECK(waited >= std::chrono::milliseconds(350));
    CHECK(j->counts().pending == 2);
}

TEST_CASE("checkpoint does not wait for a reader in another connection", "[store]") {
    Fixture f;
    auto writer = f.open();
    for (int i = 0; i < 20; ++i) append(*writer);
    // An open read transaction on the other connection pins the WAL.
    SQLite::Database raw(f.paths.journal().string(), SQLite::OPEN_READONLY);
    raw.exec("BEGIN");
    SQLite::Statement pin(raw, "SELECT count(*) FROM events");
    REQUIRE(pin.executeStep());
    auto t0 = std::chrono::steady_clock::now();
    writer->checkpoint();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));  // busy timeout is 3 s
    raw.exec("COMMIT");
    CHECK(writer->counts().pending == 20);
}

namespace {

// Another connection holding the journal's write lock, as a sqlite3 shell
// left inside a transaction does.
struct LockHolder {
    SQLite::Database db;
    explicit LockHolder(const ConfigPaths& paths) : db(paths.journal().string(), SQLite::OPEN_READWRITE) {
        db.exec("BEGIN IMMEDIATE");
    }
    void release() { db.exec("COMMIT"); }
};

std::vector<std::string> files_in(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("a locked journal sets the event aside within the wait, and the next writer folds it in first", "[store]") {
    Fixture f;
    auto j = f.open();
    auto first = append(*j, "first");
    const auto anon = j->identity()->anon_id;
    j->set_lock_wait(store::kCommandLockWait);
    LockHolder other(f.paths);

    auto t0 = std::chrono::steady_clock::now();
    auto outcome = j->append_or_set_aside([&](const store::Identity& id) {
        store::NewEvent e;
        e.event = "second";
        e.distinct_id = id.anon_id;
        e.properties = R"({"n":2})";
        return e;
    });
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(outcome == store::Journal::Recorded::set_aside);
    CHECK(waited >= std::chrono::milliseconds(200));
    CHECK(waited < std::chrono::seconds(2));
    auto aside = store::read_set_aside(f.paths);
    REQUIRE(aside.size() == 1);
    CHECK(aside[0].row.anon_id == anon);
    CHECK(aside[0].row.distinct_id == anon);
    CHECK(mode_of(store::set_aside_dir(f.paths) / aside[0].file) == 0600);
    CHECK(store::count_set_aside(f.paths) == 1);
    const std::string uuid = aside[0].row.uuid, timestamp = aside[0].row.timestamp;

    other.release();
    f.clock.advance(std::chrono::seconds(5));
    append(*j, "third");
    auto rows = j->events(10);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].uuid == first.uuid);
    CHECK(rows[1].event == "second");
    CHECK(rows[1].uuid == uuid);  // kept as minted, so a retry never makes a second copy
    CHECK(rows[1].timestamp == timestamp);
    CHECK(rows[1].properties == R"({"n":2})");
    CHECK(rows[2].event == "third");
    CHECK(j->counts().pending == 3);
    CHECK_FALSE(std::filesystem::exists(store::set_aside_dir(f.paths)));
}

TEST_CASE("folding set-aside events twice adds each once", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    // A fold killed after its commit but before removing the file: the
    // journal holds the row and the file is still there.
    auto row = store::make_row(store::NewEvent{"event", "again", "d", false, "{}", std::nullopt},
                               *j->identity(), f.clock.now_ms());
    REQUIRE(store::set_aside(f.paths, row));
    CHECK(j->fold_set_aside() == 1);
    REQUIRE(store::set_aside(f.paths, row));
    CHECK(j->fold_set_aside() == 0);
    CHECK(j->counts().pending == 2);
    CHECK(files_in(store::set_aside_dir(f.paths)).empty());
}

TEST_CASE("an event set aside with no identity known takes the one current when it is folded", "[store]") {
    Fixture f;
    auto j = f.open();
    auto row = store::make_row(store::NewEvent{"event", "early", "", false, "{}", std::nullopt}, store::Identity{},
                               f.clock.now_ms());
    REQUIRE(store::set_aside(f.paths, row));
    CHECK(j->fold_set_aside() == 1);
    auto id = j->identity();
    REQUIRE(id);
    auto rows = j->events(10);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].anon_id == id->anon_id);
    CHECK(rows[0].distinct_id == id->anon_id);
}

TEST_CASE("set-aside files are never written through a symlink, and strangers in the folder are left alone",
          "[store]") {
    Fixture f;
    auto j = f.open();
    auto row = store::make_row(store::NewEvent{"event", "e", "d", false, "{}", std::nullopt}, store::Identity{"a", {}},
                               f.clock.now_ms());
    SECTION("the folder is a symlink") {
        TempDir elsewhere;
        std::filesystem::create_directory_symlink(elsewhere.path(), store::set_aside_dir(f.paths));
        CHECK_FALSE(store::set_aside(f.paths, row));
        CHECK(files_in(elsewhere.path()).empty());
    }
    SECTION("a FIFO, a symlink and a foreign file in the folder") {
        REQUIRE(store::set_aside(f.paths, row));
        auto dir = store::set_aside_dir(f.paths);
        REQUIRE(::mkfifo((dir / "0000000000000-fifo.json").c_str(), 0600) == 0);
        std::filesystem::create_symlink("/etc/passwd", dir / "0000000000001-link.json");
        std::ofstream(dir / "0000000000002-junk.json") << "not json";
        CHECK(store::count_set_aside(f.paths) == 1);
        CHECK(j->fold_set_aside() == 1);
        CHECK(files_in(dir).size() == 3);
        CHECK(store::count_set_aside(f.paths) == 0);
    }
}

TEST_CASE("purge removes set-aside events too", "[store]") {
    Fixture f;
    auto j = f.open();
    append(*j);
    auto row = store::make_row(store::NewEvent{"event", "e", "d", false, "{}", std::nullopt}, *j->identity(),
                               f.clock.now_ms());
    REQUIRE(store::set_aside(f.paths, row));
    j->purge(false);
    CHECK(store::count_set_aside(f.paths) == 0);
    CHECK_FALSE(std::filesystem::exists(store::set_aside_dir(f.paths)));
}

TEST_CASE("a queue of writers that keeps committing is waited for; only a lock that stays put sets the event aside",
          "[store]") {
    Fixture f(Tricks::all());
    auto j = f.open();
    append(*j);
    j->set_lock_wait(store::kCommandLockWait);
    // Another writer that holds the lock almost all the time but commits
    // every 50 ms for 600 ms: the journal is busy, not stuck.
    std::atomic<bool> started{false};
    std::thread busy([&] {
        SQLite::Database other(f.paths.journal().string(), SQLite::OPEN_READWRITE);
        other.setBusyTimeout(5000);
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
        for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
            other.exec("BEGIN IMMEDIATE");
            started = true;
            other.exec("INSERT OR REPLACE INTO settings (key, value) VALUES ('test.busy', '" + std::to_string(i) + "')");
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            other.exec("COMMIT");
        }
    });
    while (!started) std::this_thread::yield();
    auto outcome = j->append_or_set_aside([](const store::Identity& id) {
        store::NewEvent e;
        e.event = "queued";
        e.distinct_id = id.anon_id;
        e.properties = "{}";
        return e;
    });
    busy.join();
    CHECK(outcome == store::Journal::Recorded::appended);
    CHECK(store::count_set_aside(f.paths) == 0);
}

TEST_CASE("a journal another program changed is refused, one we made is not (issue 13, finding 4)", "[store]") {
    Fixture f;
    { f.open(); }
    // The expected set comes from the embedded migrations, not a list kept by hand.
    CHECK(store::expected_schema().find("table events on events") != std::string::npos);
    CHECK(store::expected_schema().find("trigger") == std::string::npos);  // 002 drops them all
    const std::string change = GENERATE(as<std::string>{},
                                        "CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END",
                                        "CREATE VIEW v AS SELECT 1", "CREATE TABLE extra (x)",
                                        "CREATE INDEX extra_index ON events (uuid, state)", "DROP TABLE counters",
                                        "DROP TABLE settings");
    INFO(change);
    {
        SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READWRITE);
        db.exec(change);
    }
    for (auto mode : {store::OpenMode::read_write, store::OpenMode::read_only}) {
        auto out = store::Journal::open(f.paths, f.clock, mode, f.tricks);
        CHECK(out.status == store::OpenStatus::unusable);
        CHECK_FALSE(out.journal);
        CHECK(out.reason.find("changed by another program") != std::string::npos);
    }
}

TEST_CASE("a journal we made opens again and again without a full schema comparison", "[store]") {
    Fixture f;
    { f.open(); }
    SQLite::Database db(f.paths.journal().string(), SQLite::OPEN_READONLY);
    const auto cookie = db.execAndGet("PRAGMA schema_version").getInt64();
    CHECK(db.execAndGet("SELECT value FROM settings WHERE key = 'journal.schema_checked'").getString() ==
          std::to_string(cookie));
    for (int i = 0; i < 3; ++i) CHECK(store::Journal::open(f.paths, f.clock, store::OpenMode::read_only).journal);
}

TEST_CASE("a statement that never ends is interrupted once the step's time is up (issue 13, finding 4)", "[store]") {
    Fixture f;
    { f.open(); }
    store::Connection c(f.paths.journal(), store::OpenMode::read_write, f.tricks);
    c.set_lock_wait(std::chrono::milliseconds(0));
    const auto started = std::chrono::steady_clock::now();
    c.start_step(std::chrono::milliseconds(100));
    CHECK_THROWS(c.db().execAndGet(
        "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r"));
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took < store::kLockWait + std::chrono::seconds(1));
    // The next step has its own time.
    c.start_step();
    CHECK(c.db().execAndGet("SELECT 1").getInt() == 1);
}
