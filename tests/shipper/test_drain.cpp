#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/credentials.h"
#include "core/files.h"
#include "shipper/drain.h"
#include "shipper/event_wire.h"
#include "shipper/identity_link.h"
#include "support/process.h"
#include "fake_transport.h"
#include <rapidjson/document.h>

using namespace arcade;
using arcade::testing::FakeTransport;
using arcade::testing::TempDir;

namespace {

struct Rig {
    TempDir tmp;
    ConfigPaths paths{tmp.path() / ".arcade"};
    FixedClock clock{1'790'000'000'000};
    std::unique_ptr<store::Journal> journal;
    FakeTransport transport;
    std::vector<std::int64_t> sleeps;

    Rig() {
        REQUIRE(ensure_private_dir(paths.dir));
        auto out = store::Journal::open(paths, clock, store::OpenMode::read_write);
        REQUIRE(out.journal);
        journal = std::move(out.journal);
    }

    store::StoredEvent add(const std::string& name = "CLI execution succeeded", bool needs_identity = false,
                           std::optional<std::string> distinct = std::nullopt) {
        return journal->append([&](const store::Identity& id) {
            store::NewEvent e;
            e.event = name;
            e.distinct_id = distinct.value_or(id.principal_id.value_or(id.anon_id));
            e.needs_identity = needs_identity;
            e.properties = R"({"command_name":"test","$lib":"arcade-cli"})";
            return e;
        });
    }

    shipper::DrainReport drain() {
        shipper::DrainConfig cfg;
        cfg.posthog_host = "http://sink.test";
        cfg.api_key = "phc_test";
        cfg.cloud_url = "http://cloud.test";
        cfg.paths = paths;
        cfg.deadline = clock.monotonic() + std::chrono::seconds(9);
        cfg.sleep = [this](std::chrono::milliseconds ms) {
            sleeps.push_back(ms.count());
            clock.advance(ms);
        };
        return shipper::drain(*journal, transport, clock, cfg);
    }

    std::vector<const testing::SeenRequest*> batches() const {
        std::vector<const testing::SeenRequest*> out;
        for (auto& s : transport.seen)
            if (s.request.url.find("/batch/") != std::string::npos) out.push_back(&s);
        return out;
    }
};

}  // namespace

TEST_CASE("pending rows go out in journal order, gzip, in one batch, and are marked sent", "[shipper]") {
    Rig rig;
    std::vector<std::string> uuids;
    for (int i = 0; i < 5; ++i) uuids.push_back(rig.add().uuid);
    auto report = rig.drain();
    CHECK(report.delivered == 5);
    CHECK(report.remaining == 0);
    CHECK_FALSE(report.failed);
    auto b = rig.batches();
    REQUIRE(b.size() == 1);
    CHECK(b[0]->request.url == "http://sink.test/batch/");
    CHECK(b[0]->uuids == uuids);
    CHECK(b[0]->json.find("\"api_key\":\"phc_test\"") != std::string::npos);
    CHECK(b[0]->json.find("\"sent_at\":\"") != std::string::npos);
    CHECK(rig.journal->counts().sent == 5);
    CHECK(rig.journal->shipper_record().last_success_ms.has_value());
    SECTION("nothing is sent when there is nothing to send") {
        rig.transport.seen.clear();
        rig.drain();
        CHECK(rig.transport.seen.empty());
    }
}

TEST_CASE("batches hold at most 1000 events", "[shipper]") {
    Rig rig;
    for (int i = 0; i < 2500; ++i) rig.add();
    auto report = rig.drain();
    CHECK(report.delivered == 2500);
    auto b = rig.batches();
    REQUIRE(b.size() == 3);
    CHECK(b[0]->uuids.size() == 1000);
    CHECK(b[1]->uuids.size() == 1000);
    CHECK(b[2]->uuids.size() == 500);
}

TEST_CASE("a batch fills to 1000 events past rows that must wait", "[shipper]") {
    Rig rig;
    REQUIRE(save_credentials(rig.paths.credentials(), {"arc_secret_key_123", "a@example.com", std::nullopt}));
    rig.transport.respond = [](const testing::SeenRequest& s) {
        return s.request.url.find("validate") != std::string::npos ? FakeTransport::network_error()
                                                                   : FakeTransport::status(200);
    };
    std::vector<std::string> ready;
    ready.push_back(rig.add().uuid);
    for (int i = 0; i < 1500; ++i) rig.add("CLI execution succeeded", true);  // held: Cloud unreachable, row young
    for (int i = 0; i < 1000; ++i) ready.push_back(rig.add().uuid);
    auto report = rig.drain();
    CHECK(report.delivered == 1001);
    CHECK(report.remaining == 1500);
    auto b = rig.batches();
    REQUIRE(b.size() == 2);
    CHECK(b[0]->uuids.size() == 1000);
    CHECK(b[1]->uuids.size() == 1);
    std::vector<std::string> sent = b[0]->uuids;
    sent.push_back(b[1]->uuids[0]);
    CHECK(sent == ready);  // journal order
}

TEST_CASE("transient failures are retried with the same uuids and timestamps, 100 ms doubling", "[shipper]") {
    Rig rig;
    rig.add();
    rig.add();
    rig.transport.script = {FakeTransport::status(500), FakeTransport::network_error(), FakeTransport::status(503)};
    auto report = rig.drain();
    CHECK(report.delivered == 2);
    auto b = rig.batches();
    REQUIRE(b.size() == 4);
    for (auto* r : b) CHECK(r->uuids == b[0]->uuids);
    auto events_part = [](const std::string& json) { return json.substr(0, json.find("\"sent_at\"")); };
    CHECK(events_part(b[3]->json) == events_part(b[0]->json));
    CHECK(rig.sleeps == std::vector<std::int64_t>{100, 200, 400});
}

TEST_CASE("after 3 retries the rows stay pending, attempts are counted and a backoff is persisted", "[shipper]") {
    Rig rig;
    rig.add();
    rig.transport.respond = [](const testing::SeenRequest&) { return FakeTransport::status(502); };
    auto report = rig.drain();
    CHECK(report.failed);
    CHECK(rig.batches().size() == 4);  // 1 attempt + 3 retries
    CHECK(report.remaining == 1);
    CHECK(rig.journal->pending(0, 1)[0].attempts == 1);
    CHECK(rig.journal->shipper_record().failures == 1);
    CHECK(*rig.journal->shipper_record().next_attempt_ms == rig.clock.now_ms() + 30'000);
    CHECK(shipper::backoff_in_force(*rig.journal, rig.clock.now_ms()));
    CHECK(rig.journal->shipper_record().last_error->find("502") != std::string::npos);
    SECTION("a second failed run doubles the wait; success clears it") {
        rig.clock.advance(std::chrono::seconds(31));
        rig.drain();
        CHECK(*rig.journal->shipper_record().next_attempt_ms == rig.clock.now_ms() + 60'000);
        rig.transport.respond = nullptr;
        rig.clock.advance(std::chrono::seconds(61));
        auto ok = rig.drain();
        CHECK(ok.delivered == 1);
        CHECK_FALSE(rig.journal->shipper_record().next_attempt_ms);
        CHECK_FALSE(shipper::backoff_in_force(*rig.journal, rig.clock.now_ms()));
    }
}

TEST_CASE("Retry-After is honoured as a floor for the retry delay", "[shipper]") {
    Rig rig;
    rig.add();
    rig.transport.script = {FakeTransport::status(429, "3")};
    auto report = rig.drain();
    CHECK(report.delivered == 1);
    REQUIRE(rig.sleeps.size() == 1);
    CHECK(rig.sleeps[0] >= 3000);
}

TEST_CASE("400 isolates the offending rows by splitting, only they are dead-lettered", "[shipper]") {
    Rig rig;
    std::vector<std::string> uuids;
    for (int i = 0; i < 10; ++i) uuids.push_back(rig.add().uuid);
    const std::string poison = uuids[6];
    int code = GENERATE(400, 413);
    rig.transport.respond = [&](const testing::SeenRequest& s) {
        bool bad = std::find(s.uuids.begin(), s.uuids.end(), poison) != s.uuids.end();
        return bad ? FakeTransport::status(code) : FakeTransport::status(200);
    };
    auto report = rig.drain();
    CHECK(report.delivered == 9);
    CHECK(report.dead == 1);
    auto all = rig.journal->events(20);
    for (auto& e : all) {
        if (e.uuid == poison) {
            CHECK(e.state == "dead");
            REQUIRE(e.dead_reason);
            CHECK(e.dead_reason->find(std::to_string(code)) != std::string::npos);
        } else {
            CHECK(e.state == "sent");
        }
    }
}

TEST_CASE("401/403 keep every row pending and explain why", "[shipper]") {
    Rig rig;
    rig.add();
    int code = GENERATE(401, 403);
    rig.transport.script = {FakeTransport::status(code)};
    auto report = rig.drain();
    CHECK(rig.batches().size() == 1);  // not retried within the run
    CHECK(report.remaining == 1);
    CHECK(report.failed);
    CHECK(rig.journal->shipper_record().last_error->find("project key") != std::string::npos);
}

TEST_CASE("rows PostHog would reject are dead-lettered before sending", "[shipper]") {
    Rig rig;
    auto good = rig.add();
    auto no_name = rig.add("");
    auto no_id = rig.add("CLI execution succeeded", false, std::string("  "));
    auto report = rig.drain();
    CHECK(report.delivered == 1);
    CHECK(report.dead == 2);
    auto b = rig.batches();
    REQUIRE(b.size() == 1);
    CHECK(b[0]->uuids == std::vector<std::string>{good.uuid});
    auto all = rig.journal->events(10);
    CHECK(all[1].dead_reason == std::optional<std::string>("empty event name"));
    CHECK(all[2].dead_reason == std::optional<std::string>("empty distinct_id"));
}

TEST_CASE("an alias goes alone and is acknowledged before any row carrying its principal", "[shipper]") {
    Rig rig;
    // A link is bound to a login (SPEC §4): without one the next append would rotate it.
    REQUIRE(save_credentials(rig.paths.credentials(), {"arc_secret_key_123", "a@example.com", std::nullopt}));
    auto before = rig.add();
    REQUIRE(rig.journal->link("usr_9", [](const store::Identity& id) {
        return shipper::alias_properties(id.anon_id, "usr_9");
    }));
    auto after = rig.add();
    CHECK(after.distinct_id == "usr_9");
    SECTION("alias accepted at once") {
        rig.drain();
        auto b = rig.batches();
        REQUIRE(b.size() == 3);
        CHECK(b[0]->uuids == std::vector<std::string>{before.uuid});
        CHECK(b[1]->events == std::vector<std::string>{"$create_alias"});
        CHECK(b[1]->distinct == std::vector<std::string>{"usr_9"});
        CHECK(b[1]->json.find("\"alias\":\"" + before.anon_id + "\"") != std::string::npos);
        CHECK(b[1]->json.find("$process_person_profile") == std::string::npos);
        CHECK(b[2]->uuids == std::vector<std::string>{after.uuid});
        CHECK(b[2]->json.find("$process_person_profile") == std::string::npos);
        CHECK(b[0]->json.find("\"$process_person_profile\":false") != std::string::npos);
    }
    SECTION("alias refused by every attempt: identified rows wait for the next run") {
        rig.transport.respond = [](const testing::SeenRequest& s) {
            return s.events == std::vector<std::string>{"$create_alias"} ? FakeTransport::status(500)
                                                                         : FakeTransport::status(200);
        };
        rig.drain();
        for (auto* r : rig.batches()) CHECK(std::find(r->uuids.begin(), r->uuids.end(), after.uuid) == r->uuids.end());
        rig.transport.respond = nullptr;
        rig.transport.seen.clear();
        rig.clock.advance(std::chrono::seconds(60));
        rig.drain();
        auto b = rig.batches();
        REQUIRE(b.size() == 2);
        CHECK(b[0]->events == std::vector<std::string>{"$create_alias"});
        CHECK(b[1]->uuids == std::vector<std::string>{after.uuid});
    }
}

TEST_CASE("rows that need an identity are resolved lazily through Arcade Cloud", "[shipper]") {
    Rig rig;
    REQUIRE(save_credentials(rig.paths.credentials(), {"arc_secret_key_123", "a@example.com", std::nullopt}));
    auto row = rig.add("CLI execution succeeded", true);
    int validate_calls = 0;
    SECTION("validated: alias first, then the row as the principal") {
        rig.transport.respond = [&](const testing::SeenRequest& s) {
            if (s.request.url == "http://cloud.test/api/v1/auth/validate") {
                ++validate_calls;
                CHECK(std::find(s.request.headers.begin(), s.request.headers.end(),
                                std::pair<std::string, std::string>{"Authorization", "Bearer arc_secret_key_123"}) !=
                      s.request.headers.end());
                auto r = FakeTransport::status(200);
                r.body = R"({"data":{"principal_id":"usr_lazy"}})";
                return r;
            }
            return FakeTransport::status(200);
        };
        rig.drain();
        CHECK(validate_calls == 1);
        auto b = rig.batches();
        REQUIRE(b.size() == 2);
        CHECK(b[0]->events == std::vector<std::string>{"$create_alias"});
        CHECK(b[0]->distinct == std::vector<std::string>{"usr_lazy"});
        CHECK(b[1]->uuids == std::vector<std::string>{row.uuid});
        CHECK(b[1]->distinct == std::vector<std::string>{"usr_lazy"});
        CHECK(rig.journal->identity()->principal_id == std::optional<std::string>("usr_lazy"));
        for (auto& s : rig.transport.seen) CHECK(s.json.find("arc_secret_key_123") == std::string::npos);
    }
    SECTION("key refused: the row goes anonymous") {
        rig.transport.respond = [&](const testing::SeenRequest& s) {
            return FakeTransport::status(s.request.url.find("validate") != std::string::npos ? 401 : 200);
        };
        rig.drain();
        auto b = rig.batches();
        REQUIRE(b.size() == 1);
        CHECK(b[0]->distinct == std::vector<std::string>{row.anon_id});
        CHECK(b[0]->json.find("\"$process_person_profile\":false") != std::string::npos);
    }
    SECTION("Cloud unreachable: kept while young, anonymous once an hour old") {
        rig.transport.respond = [&](const testing::SeenRequest& s) {
            return s.request.url.find("validate") != std::string::npos ? FakeTransport::network_error()
                                                                       : FakeTransport::status(200);
        };
        rig.drain();
        CHECK(rig.batches().empty());
        CHECK(rig.journal->counts().pending == 1);
        rig.clock.advance(std::chrono::seconds(3601));
        rig.drain();
        auto b = rig.batches();
        REQUIRE(b.size() == 1);
        CHECK(b[0]->distinct == std::vector<std::string>{row.anon_id});
    }
}

TEST_CASE("rows from before a rotation are never given today's principal", "[shipper]") {
    Rig rig;
    REQUIRE(save_credentials(rig.paths.credentials(), {"arc_key_of_second_user_1", "b@example.com", std::nullopt}));
    auto old_row = rig.add("CLI execution succeeded", true);
    rig.journal->rotate();
    auto new_row = rig.add("CLI execution succeeded", true);
    rig.transport.respond = [&](const testing::SeenRequest& s) {
        if (s.request.url.find("validate") != std::string::npos) {
            auto r = FakeTransport::status(200);
            r.body = R"({"data":{"principal_id":"usr_second"}})";
            return r;
        }
        return FakeTransport::status(200);
    };
    rig.drain();
    std::map<std::string, std::string> sent_as;
    for (auto* b : rig.batches())
        for (std::size_t i = 0; i < b->uuids.size(); ++i) sent_as[b->uuids[i]] = b->distinct[i];
    CHECK(sent_as[old_row.uuid] == old_row.anon_id);
    CHECK(sent_as[new_row.uuid] == "usr_second");
}

TEST_CASE("the run stops starting requests at its deadline", "[shipper]") {
    Rig rig;
    rig.add();
    rig.transport.respond = [](const testing::SeenRequest&) { return FakeTransport::status(503, "30"); };
    auto report = rig.drain();
    CHECK(rig.batches().size() == 1);  // a 30 s Retry-After does not fit in the run
    CHECK(report.failed);
    CHECK(*rig.journal->shipper_record().next_attempt_ms >= rig.clock.now_ms() + 30'000);
}

TEST_CASE("the wire form of an anonymous event marks it personless", "[shipper]") {
    store::StoredEvent row;
    row.kind = "event";
    row.event = "CLI execution failed";
    row.uuid = "0190a8a0-0000-7000-8000-000000000000";
    row.timestamp = "2026-11-27T12:40:30.123Z";
    row.anon_id = row.distinct_id = "anon-1";
    row.properties = R"({"command_name":"usage.status"})";
    CHECK(shipper::encode_event(row) ==
          R"({"event":"CLI execution failed","distinct_id":"anon-1","uuid":"0190a8a0-0000-7000-8000-000000000000",)"
          R"("timestamp":"2026-11-27T12:40:30.123Z","properties":{"command_name":"usage.status","$process_person_profile":false}})");
    row.distinct_id = "usr_1";
    CHECK(shipper::encode_event(row).find("$process_person_profile") == std::string::npos);
}

TEST_CASE("the fast wire encoding matches the parse-and-serialise reference byte for byte", "[shipper]") {
    store::StoredEvent row;
    row.kind = "event";
    // Strings with nothing to escape take a copy-as-is path; the rest go through RapidJSON.
    row.event = GENERATE(as<std::string>{}, "CLI execution \"failed\"\n", "CLI execution succeeded", "back\\slash",
                         std::string("nul\0, controls \x01\x1f and DEL \x7f", 27));
    row.uuid = "0190a8a0-0000-7000-8000-000000000000";
    row.timestamp = "2026-11-27T12:40:30.123Z";
    row.anon_id = "anon-é";
    row.distinct_id = GENERATE(as<std::string>{}, "anon-é", "usr_1");
    // Stored properties are written by RapidJSON, so they are in its canonical form.
    row.properties = GENERATE(as<std::string>{}, "{}", "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"\xc3\xa9\\n\"}}",
                              R"({"command_name":"x","$lib":"arcade-cli"})");
    CHECK(shipper::encode_event(row) == shipper::encode_event_parsed(row));
    rapidjson::Document d;
    d.Parse(shipper::encode_event(row).c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(d["properties"].HasMember("$process_person_profile") == (row.distinct_id == row.anon_id));
}

TEST_CASE("a delivery the journal cannot record at once is recorded once it can, not sent again", "[shipper]") {
    Rig rig;
    for (int i = 0; i < 3; ++i) rig.add();
    // When PostHog answers, another process holds the journal's write lock for
    // longer than the busy timeout (3 s): the first mark_sent fails.
    std::thread releaser;
    SQLite::Database other(rig.paths.journal().string(), SQLite::OPEN_READWRITE);
    rig.transport.respond = [&](const testing::SeenRequest&) {
        other.exec("BEGIN IMMEDIATE");
        releaser = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(3600));
            other.exec("COMMIT");
        });
        http::Response ok;
        ok.status = 200;
        ok.body = R"({"status":"Ok"})";
        return ok;
    };
    auto report = rig.drain();
    releaser.join();
    CHECK(rig.batches().size() == 1);
    CHECK(report.delivered == 3);
    CHECK(rig.journal->counts().pending == 0);
    CHECK(rig.journal->counts().sent == 3);
}
