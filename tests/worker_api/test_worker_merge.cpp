#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "worker_api/worker_merge.h"

using namespace arcade::worker_api;

namespace {

EngineWorker engine_worker(std::string id, std::string uri, bool enabled = true) {
    EngineWorker w;
    w.id = std::move(id);
    w.type = "http";
    w.http_uri = std::move(uri);
    w.enabled = enabled;
    return w;
}

std::vector<std::string> ids(const std::vector<WorkerSummary>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

}  // namespace

TEST_CASE("merge_workers joins Engine registrations and Cloud deployments by id", "[worker_api]") {
    std::vector<EngineWorker> engine = {engine_worker("both", "https://both.example.com"),
                                        engine_worker("engine-only", "https://e.example.com", false),
                                        engine_worker("moved", "https://old.example.com")};
    std::vector<CloudWorker> cloud = {{"cloud-only", "https://c.example.com"},
                                      {"moved", "https://new.example.com"},
                                      {"both", "https://BOTH.example.com/"}};

    auto rows = merge_workers(engine, cloud);
    REQUIRE(ids(rows) == std::vector<std::string>{"both", "engine-only", "moved", "cloud-only"});

    CHECK(rows[0].cloud_deployed == true);
    CHECK(rows[0].engine_registered);
    CHECK(rows[0].enabled == true);
    CHECK_FALSE(rows[0].endpoint_mismatch);  // same place up to case and trailing slash

    CHECK(rows[1].cloud_deployed == false);
    CHECK(rows[1].enabled == false);
    CHECK(rows[1].cloud_endpoint.empty());
    CHECK_FALSE(rows[1].endpoint_mismatch);

    CHECK(rows[2].endpoint_mismatch);
    CHECK(rows[2].engine_uri == "https://old.example.com");
    CHECK(rows[2].cloud_endpoint == "https://new.example.com");

    CHECK(rows[3].cloud_deployed == true);
    CHECK_FALSE(rows[3].engine_registered);
    CHECK_FALSE(rows[3].enabled.has_value());
    CHECK(rows[3].cloud_endpoint == "https://c.example.com");
    CHECK_FALSE(rows[3].endpoint_mismatch);
}

TEST_CASE("merge_workers keeps cloud-only workers when the Engine has none", "[worker_api]") {
    auto rows = merge_workers({}, std::vector<CloudWorker>{{"a", "https://a"}, {"b", "https://b"}});
    CHECK(ids(rows) == std::vector<std::string>{"a", "b"});
    CHECK(merge_workers({}, std::vector<CloudWorker>{}).empty());
    CHECK(merge_workers({}, std::nullopt).empty());
}

TEST_CASE("merge_workers marks the Cloud column unknown when the Cloud failed", "[worker_api]") {
    auto rows = merge_workers({engine_worker("a", "https://a")}, std::nullopt);
    REQUIRE(rows.size() == 1);
    CHECK_FALSE(rows[0].cloud_deployed.has_value());
    CHECK_FALSE(rows[0].endpoint_mismatch);
}

TEST_CASE("merge_workers keeps the first of repeated ids", "[worker_api]") {
    auto rows = merge_workers({engine_worker("a", "https://1"), engine_worker("a", "https://2")},
                              std::vector<CloudWorker>{{"b", "x"}, {"b", "y"}, {"a", "https://1"}});
    REQUIRE(ids(rows) == std::vector<std::string>{"a", "b"});
    CHECK(rows[0].engine_uri == "https://1");
    CHECK_FALSE(rows[0].endpoint_mismatch);
    CHECK(rows[1].cloud_endpoint == "x");
}

TEST_CASE("MCP workers are reached at their mcp.uri", "[worker_api]") {
    EngineWorker mcp;
    mcp.id = "m";
    mcp.type = "mcp";
    mcp.http_uri = "https://http.example.com";
    mcp.mcp_uri = "https://mcp.example.com/mcp";
    CHECK(mcp.uri() == "https://mcp.example.com/mcp");
    mcp.type = "http";
    CHECK(mcp.uri() == "https://http.example.com");
    mcp.http_uri.clear();
    CHECK(mcp.uri() == "https://mcp.example.com/mcp");

    mcp.type = "MCP";
    auto rows = merge_workers({mcp}, std::vector<CloudWorker>{{"m", "https://mcp.example.com/mcp"}});
    CHECK(rows[0].engine_uri == "https://mcp.example.com/mcp");
    CHECK_FALSE(rows[0].endpoint_mismatch);
}

TEST_CASE("same_endpoint ignores scheme/host case and trailing slashes only", "[worker_api]") {
    CHECK(same_endpoint("https://A.example.com/", "https://a.example.com"));
    CHECK(same_endpoint("HTTPS://a.example.com/Path/", "https://a.example.com/Path"));
    CHECK_FALSE(same_endpoint("https://a.example.com/Path", "https://a.example.com/path"));
    CHECK_FALSE(same_endpoint("http://a.example.com", "https://a.example.com"));
    CHECK_FALSE(same_endpoint("https://a.example.com:8443", "https://a.example.com"));
}

TEST_CASE("workers_to_json prints a stable array with every key", "[worker_api]") {
    auto rows = merge_workers({engine_worker("a", "https://a")},
                              std::vector<CloudWorker>{{"a", "https://b"}, {"c\xFF", "https://c"}});
    rows[0].toolkits = std::vector<std::string>{"Github", "Slack"};
    rows[1].toolkits = std::nullopt;
    std::string json = workers_to_json(rows);
    CHECK(json.back() == '\n');

    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsArray());
    REQUIRE(doc.Size() == 2);
    const auto& a = doc[0];
    CHECK(std::string(a["id"].GetString()) == "a");
    CHECK(a["cloud_deployed"].GetBool());
    CHECK(a["engine_registered"].GetBool());
    CHECK(a["enabled"].GetBool());
    CHECK(std::string(a["type"].GetString()) == "http");
    CHECK(a["managed"].IsNull());
    CHECK(std::string(a["engine_uri"].GetString()) == "https://a");
    CHECK(std::string(a["cloud_endpoint"].GetString()) == "https://b");
    CHECK(a["endpoint_mismatch"].GetBool());
    REQUIRE(a["toolkits"].IsArray());
    CHECK(std::string(a["toolkits"][1].GetString()) == "Slack");

    const auto& c = doc[1];
    CHECK(std::string(c["id"].GetString()) == "c\xEF\xBF\xBD");  // invalid UTF-8 replaced
    CHECK(c["enabled"].IsNull());
    CHECK(c["engine_uri"].IsNull());
    CHECK(c["toolkits"].IsNull());
    CHECK_FALSE(c["engine_registered"].GetBool());

    CHECK(workers_to_json({}) == "[]\n");
}
