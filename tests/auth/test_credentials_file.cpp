// A credentials.yaml that is missing, empty, not YAML, the wrong shape, huge,
// a symlink or unreadable: commands that need a login say so, telemetry
// treats the user as anonymous, and nothing crashes.
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "auth_harness.h"
#include "core/credentials.h"
#include "support/fake_arcade.h"
#include "support/posthog_sink.h"

using arcade::testing::FakeCloud;
using arcade::testing::Machine;
using arcade::testing::PostHogSink;

namespace {

constexpr const char* kKey = "arc_test_key_one";

const std::string kValid = std::string("cloud:\n  api:\n    key: ") + kKey + "\n  user:\n    email: a@b.c\n";

// Puts an unusable credentials file of kind `kind` in place. False when the
// kind cannot be made unusable here (root reads files whatever their mode).
bool plant(const Machine& m, const std::string& kind) {
    std::filesystem::create_directories(m.config_dir());
    const auto path = m.credentials_path();
    auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
    if (kind == "missing") return true;
    if (kind == "empty") write("");
    else if (kind == "not YAML") write("cloud: {api: [unclosed\n\x01\xff\xfe");
    else if (kind == "wrong shape") write("cloud:\n  api: just-a-string\n");
    else if (kind == "a list") write("- cloud\n- api\n");
    else if (kind == "empty key") write("cloud:\n  api:\n    key: \"\"\n");
    else if (kind == "key is a map") write("cloud:\n  api:\n    key: {nested: x}\n");
    else if (kind == "huge") write(kValid + "# " + std::string(2u << 20, 'x') + "\n");
    else if (kind == "a symlink") {
        auto target = m.path() / "real-credentials.yaml";
        std::ofstream(target) << kValid;
        std::filesystem::create_symlink(target, path);
    } else if (kind == "a directory") std::filesystem::create_directory(path);
    else if (kind == "a fifo") REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    else if (kind == "unreadable") {
        if (::geteuid() == 0) return false;
        write(kValid);
        ::chmod(path.c_str(), 0);
    } else FAIL("unknown kind " << kind);
    return true;
}

}  // namespace

TEST_CASE("an unusable credentials file means not logged in, anonymous telemetry and no crash", "[auth]") {
    PostHogSink sink;
    sink.start();
    FakeCloud cloud;
    cloud.set_principal(kKey, "principal-one");
    Machine m(sink.url(), cloud.url());
    const std::string kind = GENERATE(as<std::string>{}, "missing", "empty", "not YAML", "wrong shape", "a list",
                                      "empty key", "key is a map", "huge", "a symlink", "a directory", "a fifo",
                                      "unreadable");
    INFO("credentials file: " << kind);
    if (!plant(m, kind)) {
        WARN("skipped: running as root, which reads a file whatever its mode");
        return;
    }
    REQUIRE_FALSE(arcade::load_credentials(m.credentials_path()));

    // A command that needs a login (the worker group, when this build has it).
    if (m.arcade({"worker", "--help"}).exit_code == 0) {
        auto r = m.arcade({"worker", "list"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(arcade::kNotLoggedIn) != std::string::npos);
    } else {
        WARN("this build has no `worker` commands; the not-logged-in message is not checked");
    }

    // Telemetry: the next event is anonymous and needs no identity.
    auto status = m.arcade({"usage", "status", "--json"});
    REQUIRE(status.exit_code == 0);
    rapidjson::Document doc;
    doc.Parse(status.out.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(std::string(doc["identity"]["distinct_id"].GetString()) == doc["identity"]["anon_id"].GetString());
    CHECK_FALSE(doc["identity"]["needs_identity"].GetBool());
    for (const auto& e : m.journal_events()) {
        CHECK_FALSE(e.needs_identity);
        CHECK(e.distinct_id == e.anon_id);
    }

    // login is not fooled into "already logged in"; it waits for a browser.
    arcade::testing::ReservedPort port(true);
    auto login = m.arcade({"login", "--callback-port", std::to_string(port.port()), "--timeout", "1"});
    CHECK(login.exit_code == 1);
    CHECK(login.err.find("timed out") != std::string::npos);

    // logout cleans up whatever it can, and never crashes.
    auto logout = m.arcade({"logout"});
    CHECK(logout.exit_code < 128);
    if (kind == "a directory") {
        CHECK(logout.exit_code == 1);
        CHECK(std::filesystem::is_directory(m.credentials_path()));
    } else {
        CHECK(logout.exit_code == 0);
        CHECK(logout.out.find("Not logged in") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(m.credentials_path())));
    }
    CHECK(m.transcript().find(kKey) == std::string::npos);
}
