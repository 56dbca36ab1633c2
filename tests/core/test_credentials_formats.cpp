// credentials.yaml in both formats (SPEC §2): the Python CLI 1.15's OAuth
// file and the first-generation key file are read, and each is written back
// in its own format, byte for byte as the Python CLI writes the OAuth one.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/credentials.h"

namespace {

// The exact bytes the Python CLI's Config.save_to_file writes (yaml.dump of
// model_dump(exclude_none=True, mode="json"), keys sorted; produced with
// PyYAML 6.0 from the same values).
const std::string kPythonOAuth =
    "cloud:\n"
    "  auth:\n"
    "    access_token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2N0In0.c2ln\n"
    "    expires_at: '2026-12-03T01:02:03.456789'\n"
    "    refresh_token: rt_0123456789abcdef\n"
    "  context:\n"
    "    org_id: org_8f2a\n"
    "    org_name: \"Caf\\xE9 Org\"\n"
    "    project_id: '123'\n"
    "    project_name: 'Default: main'\n"
    "  coordinator_url: https://cloud.arcade.dev\n"
    "  user:\n"
    "    email: ada@example.com\n";

struct TempFile {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                  ("arcade-creds-" + std::to_string(::getpid()) + ".yaml");
    ~TempFile() { std::filesystem::remove(path); }
    void write(const std::string& text) const { std::ofstream(path, std::ios::binary) << text; }
    std::string read() const {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

}  // namespace

TEST_CASE("the Python CLI's OAuth credentials are read and written back byte for byte", "[credentials]") {
    TempFile f;
    f.write(kPythonOAuth);
    auto creds = arcade::load_credentials(f.path);
    REQUIRE(creds);
    REQUIRE(creds->is_oauth());
    CHECK(creds->api_key.empty());
    CHECK(creds->email == "ada@example.com");
    CHECK(creds->secret() == "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2N0In0.c2ln");
    CHECK(creds->oauth->refresh_token == "rt_0123456789abcdef");
    CHECK(creds->oauth->expires_at == "2026-12-03T01:02:03.456789");
    CHECK(creds->oauth->coordinator_url == "https://cloud.arcade.dev");
    REQUIRE(creds->oauth->context);
    CHECK(creds->oauth->context->org_name == "Caf\xc3\xa9 Org");
    CHECK(creds->oauth->context->project_id == "123");
    CHECK(creds->secret_values() ==
          std::vector<std::string>{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2N0In0.c2ln", "rt_0123456789abcdef"});

    REQUIRE(arcade::save_credentials(f.path, *creds));
    CHECK(f.read() == kPythonOAuth);
}

TEST_CASE("an OAuth login's account identity survives a token refresh; a key's is the key", "[credentials]") {
    arcade::Credentials a;
    a.email = "ada@example.com";
    a.oauth = arcade::OAuthLogin{"https://cloud.arcade.dev", "access-1", "refresh-1", "2026-12-03T01:02:03", {}};
    arcade::Credentials refreshed = a;
    refreshed.oauth->access_token = "access-2";
    refreshed.oauth->expires_at = "2026-12-03T02:02:03";
    CHECK(a.account_identity() == refreshed.account_identity());
    arcade::Credentials other = a;
    other.email = "bob@example.com";
    CHECK(a.account_identity() != other.account_identity());
    arcade::Credentials key{"arc_key_1", "ada@example.com", std::nullopt};
    CHECK(key.account_identity() != a.account_identity());
    CHECK(key.account_identity().find("arc_key_1") != std::string::npos);
    // A file without coordinator_url gets the default one written by a
    // refresh: still the same account.
    arcade::Credentials no_url = a;
    no_url.oauth->coordinator_url.clear();
    CHECK(no_url.account_identity() == a.account_identity());
}

TEST_CASE("a first-generation key file stays one; a file with both reads as OAuth", "[credentials]") {
    TempFile f;
    f.write("cloud:\n  api:\n    key: arc_key_1\n  user:\n    email: a@b.c\n");
    auto creds = arcade::load_credentials(f.path);
    REQUIRE(creds);
    CHECK_FALSE(creds->is_oauth());
    CHECK(creds->secret() == "arc_key_1");
    REQUIRE(arcade::save_credentials(f.path, *creds));
    CHECK(f.read() == "cloud:\n  api:\n    key: arc_key_1\n  user:\n    email: a@b.c\n");

    f.write(kPythonOAuth + "  api:\n    key: arc_key_1\n");
    creds = arcade::load_credentials(f.path);
    REQUIRE(creds);
    CHECK(creds->is_oauth());
}

TEST_CASE("OAuth files the Python CLI would refuse are refused", "[credentials]") {
    TempFile f;
    const std::string kind = GENERATE(as<std::string>{}, "no access token", "no expiry", "auth is a list",
                                      "token is a map");
    INFO(kind);
    if (kind == "no access token") f.write("cloud:\n  auth:\n    refresh_token: r\n    expires_at: '2026-01-01T00:00:00'\n");
    if (kind == "no expiry") f.write("cloud:\n  auth:\n    access_token: a\n    refresh_token: r\n");
    if (kind == "auth is a list") f.write("cloud:\n  auth: [a, b]\n");
    if (kind == "token is a map") f.write("cloud:\n  auth:\n    access_token: {x: 1}\n    expires_at: '2026-01-01T00:00:00'\n");
    CHECK_FALSE(arcade::load_credentials(f.path));
}

TEST_CASE("values are quoted the way PyYAML quotes them", "[credentials]") {
    // Pairs produced with PyYAML 6.0: yaml.dump({"k": value}).
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"yes", "'yes'"},   {"Null", "'Null'"},       {"-x", "-x"},         {"x:", "'x:'"},
        {"a#b", "a#b"},     {"a #b", "'a #b'"},       {" lead", "' lead'"}, {"it's", "it's"},
        {"0x1F", "'0x1F'"}, {".5", "'.5'"},           {"~", "'~'"},         {"", "''"},
        {"1_000", "'1_000'"}, {"12:30:00", "'12:30:00'"}, {"<<", "'<<'"},  {"=", "'='"},
        {"tab\there", "\"tab\\there\""}, {"http://localhost:8000", "http://localhost:8000"},
    };
    for (const auto& [value, dumped] : cases) {
        INFO(value);
        arcade::Credentials c;
        c.email = "e@x.y";
        c.oauth = arcade::OAuthLogin{"", "tok", "ref", "2026-01-01T00:00:00", arcade::LoginContext{value, "n", "p", "q"}};
        const std::string y = arcade::credentials_yaml(c);
        CHECK(y.find("    org_id: " + dumped + "\n") != std::string::npos);
    }
}
