// SPEC §4 at the journal: identity follows usage.json and credentials.yaml,
// which other programs change, and a link is bound to its login's keyed
// fingerprint. (End to end with the real binaries: tests/auth/test_shared_home.cpp.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "core/clock.h"
#include "core/credentials.h"
#include "core/files.h"
#include "store/identity_file.h"
#include "store/journal.h"
#include "support/process.h"

using namespace arcade;
using arcade::testing::slurp;
using arcade::testing::TempDir;

namespace {

constexpr const char* kAnonX = "11111111-2222-4333-8444-555555555555";

struct Home {
    TempDir tmp;
    ConfigPaths paths{tmp.path() / ".arcade"};
    FixedClock clock{1'790'000'000'000};
    std::unique_ptr<store::Journal> journal;
    Home() {
        REQUIRE(ensure_private_dir(paths.dir));
        auto out = store::Journal::open(paths, clock, store::OpenMode::read_write);
        REQUIRE(out.journal);
        journal = std::move(out.journal);
    }
    void login_key(const std::string& key) const {
        REQUIRE(save_credentials(paths.credentials(), {key, "u@example.com", std::nullopt}));
    }
    void login_oauth(const std::string& access, const std::string& email) const {
        Credentials c;
        c.email = email;
        OAuthLogin o;
        o.coordinator_url = "https://cloud.arcade.dev";
        o.access_token = access;
        o.refresh_token = "rt_" + access;
        o.expires_at = "2026-12-03T01:02:03.456789";
        o.context = LoginContext{"org_1", "Org", "proj_1", "Project"};
        c.oauth = o;
        REQUIRE(save_credentials(paths.credentials(), c));
    }
    void logout_by_hand() const { std::filesystem::remove(paths.credentials()); }
    // What another program writes (the Python CLI's format).
    void write_usage(const std::string& text) const { REQUIRE(write_file_atomic(paths.usage_json(), text)); }
    store::StoredEvent append() {
        return journal->append([](const store::CurrentIdentity& id) {
            store::NewEvent e;
            e.event = "CLI execution succeeded";
            e.distinct_id = id.distinct_id();
            e.needs_identity = id.needs_identity();
            e.properties = R"({"command_name":"test"})";
            return e;
        });
    }
    bool link(const std::string& principal) {
        return journal->link(principal, [](const store::Identity& before) { return before.anon_id; });
    }
};

}  // namespace

TEST_CASE("usage.json is read as leniently as the Python CLI reads it", "[store]") {
    using store::parse_identity_json;
    CHECK(parse_identity_json(R"({"anon_id": "abc"})") == store::Identity{"abc", std::nullopt});
    CHECK(parse_identity_json(R"({"anon_id": 12345678901234, "linked_principal_id": null})") ==
          store::Identity{"12345678901234", std::nullopt});
    CHECK(parse_identity_json(R"({"anon_id": "abc", "linked_principal_id": 42, "extra": [1]})") ==
          store::Identity{"abc", std::string("42")});
    CHECK(parse_identity_json(R"({"anon_id": "abc", "linked_principal_id": ""})") == store::Identity{"abc", std::nullopt});
    CHECK_FALSE(parse_identity_json(R"({"anon_id": null})"));
    CHECK_FALSE(parse_identity_json(R"({"anon_id": 0})"));  // PostHog refuses "0"
    CHECK_FALSE(parse_identity_json(R"(["anon_id"])"));

    Home h;
    h.write_usage(std::string("{\"anon_id\": \"") + kAnonX + "\"}");
    auto row = h.append();
    CHECK(row.anon_id == kAnonX);
    CHECK(h.journal->identity_history().front().transition == "imported");
}

TEST_CASE("an account switch rotates before the event, which never carries the old principal", "[store]") {
    Home h;
    h.login_key("arc_key_a");
    h.append();
    REQUIRE(h.link("principal-a"));
    const auto linked = *h.journal->identity();
    CHECK(h.append().distinct_id == "principal-a");

    h.login_key("arc_key_b");  // the file replaced by hand
    auto row = h.append();
    CHECK(row.distinct_id != "principal-a");
    CHECK(row.anon_id != linked.anon_id);
    CHECK(row.needs_identity);
    CHECK(h.journal->identity_history().back().transition == "rotated");
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("credentials_changed"));
    CHECK(store::read_identity_file(h.paths.usage_json()) == h.journal->identity());
}

TEST_CASE("credentials removed by hand rotate before the event", "[store]") {
    Home h;
    h.login_key("arc_key_a");
    REQUIRE(h.link("principal-a"));
    h.logout_by_hand();
    auto row = h.append();
    CHECK(row.distinct_id == row.anon_id);
    CHECK_FALSE(row.needs_identity);
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("credentials_removed"));
    CHECK_FALSE(h.journal->identity()->principal_id);
}

TEST_CASE("an OAuth login keeps its link across a token refresh, not across another account", "[store]") {
    Home h;
    h.login_oauth("access_one", "ada@example.com");
    REQUIRE(h.link("acct-ada"));
    auto row = h.append();
    CHECK(row.distinct_id == "acct-ada");
    CHECK(row.properties.find("org_1") == std::string::npos);  // properties are the caller's

    h.login_oauth("access_two_refreshed", "ada@example.com");  // tokens rewritten, same account
    CHECK(h.append().distinct_id == "acct-ada");
    CHECK_FALSE(h.journal->last_rotation_reason());

    h.login_oauth("access_three", "bob@example.com");
    CHECK(h.append().distinct_id != "acct-ada");
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("credentials_changed"));
}

TEST_CASE("a login's org and project come with the identity, read only when credentials change", "[store]") {
    Home h;
    h.login_oauth("access_one", "ada@example.com");
    auto id = h.journal->sync_identity();
    CHECK(id.logged_in);
    CHECK(id.org_id == "org_1");
    CHECK(id.project_id == "proj_1");
    h.login_key("arc_key_a");
    id = h.journal->sync_identity();
    CHECK(id.org_id.empty());
}

TEST_CASE("a link another program made is adopted, bound to the current login", "[store]") {
    Home h;
    h.login_key("arc_key_a");
    h.append();
    h.write_usage(std::string("{\"anon_id\": \"") + kAnonX + "\", \"linked_principal_id\": \"principal-a\"}");
    auto row = h.append();
    CHECK(row.anon_id == kAnonX);
    CHECK(row.distinct_id == "principal-a");
    CHECK(h.journal->identity_history().back().transition == "imported");

    h.login_key("arc_key_b");
    row = h.append();
    CHECK(row.anon_id != kAnonX);
    CHECK(row.distinct_id != "principal-a");
}

TEST_CASE("an anonymous id that is or was linked to someone else is never aliased to another", "[store]") {
    Home h;
    h.login_key("arc_key_b");
    h.append();
    // Another program linked X to A; then a login as B looks B up.
    h.write_usage(std::string("{\"anon_id\": \"") + kAnonX + "\", \"linked_principal_id\": \"principal-a\"}");
    REQUIRE(h.link("principal-b"));
    for (const auto& e : h.journal->events(100))
        if (e.kind == "alias") CHECK(e.properties != kAnonX);
    auto now = *h.journal->identity();
    CHECK(now.anon_id != kAnonX);
    CHECK(now.principal_id == std::optional<std::string>("principal-b"));

    SECTION("also when the id was linked before and unlinked since") {
        h.write_usage(std::string("{\"anon_id\": \"") + kAnonX + "\", \"linked_principal_id\": null}");
        h.login_key("arc_key_c");
        REQUIRE(h.link("principal-c"));
        CHECK(h.journal->identity()->anon_id != kAnonX);
    }
}

TEST_CASE("a link looked up with a login that is no longer on disk is refused", "[store]") {
    Home h;
    h.login_key("arc_key_a");
    auto asked = h.journal->sync_identity().anon_id;
    h.login_key("arc_key_b");
    CHECK_FALSE(h.journal->link("principal-a", [](const store::Identity& b) { return b.anon_id; }, asked,
                                Credentials{"arc_key_a", "", std::nullopt}.account_identity()));
    CHECK_FALSE(h.journal->identity()->principal_id);
}

TEST_CASE("logout rotates whenever linked or credentials were removed", "[store]") {
    Home h;
    h.append();
    CHECK_FALSE(h.journal->rotate_after_logout(false));
    CHECK(h.journal->rotate_after_logout(true));
    h.login_key("arc_key_a");
    REQUIRE(h.link("principal-a"));
    CHECK(h.journal->rotate_after_logout(false));
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("logout"));
}

TEST_CASE("purge --all makes the next identity's reason purge", "[store]") {
    Home h;
    h.append();
    h.journal->purge(true);
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("purge"));
    h.append();
    CHECK(h.journal->identity_history().front().reason == std::optional<std::string>("purge"));
    CHECK(h.journal->last_rotation_reason() == std::optional<std::string>("purge"));
}

TEST_CASE("the journal keeps a keyed fingerprint of the login, never its secret", "[store]") {
    Home h;
    const std::string key = "arc_very_secret_key_0123456789";
    h.login_key(key);
    h.append();
    REQUIRE(h.link("principal-a"));
    h.append();
    h.journal->checkpoint();
    for (const char* file : {"usage.db", "usage.db-wal", "usage.json"}) {
        auto path = h.paths.dir / file;
        if (std::filesystem::exists(path)) CHECK(slurp(path).find(key) == std::string::npos);
    }
}
