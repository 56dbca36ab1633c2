// The PostHog SDK compliance adapter as the harness meets it: its HTTP
// interface on 127.0.0.1, driven with httplib's client, delivering through
// the real journal, drain loop and curl transport to the loopback PostHog
// sink. Expectations are POSTHOG.md's "Compliance expectations for retries".
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/build_info.h"
#include "posthog-compliance-adapter/adapter.h"
#include "support/posthog_sink.h"

extern char** environ;

namespace {

using arcade::compliance::AdapterServer;
using arcade::testing::parse_script;
using arcade::testing::PostHogSink;
using arcade::testing::ReceivedRequest;
using arcade::testing::Step;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kApiKey = "phc_compliance";

struct Answer {
    int status = 0;
    rapidjson::Document json;
};

rapidjson::Document parse_json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    INFO(text);
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> member_names(const rapidjson::Value& obj) {
    std::vector<std::string> names;
    for (const auto& m : obj.GetObject()) names.emplace_back(m.name.GetString());
    return names;
}

// A sink and an adapter pointed at it; the adapter goes first on
// destruction, so nothing is still sending when the sink stops.
class Rig {
public:
    Rig() : port_(start_both(sink, adapter)) {}

    Answer call(const std::string& method, const std::string& path, const std::string& body = "") {
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(30, 0);
        httplib::Result res = method == "GET" ? client.Get(path.c_str())
                                              : client.Post(path.c_str(), body, "application/json");
        REQUIRE(res);
        Answer a;
        a.status = res->status;
        a.json = parse_json(res->body);
        return a;
    }
    Answer get(const std::string& path) { return call("GET", path); }
    Answer post(const std::string& path, const std::string& body = "{}") { return call("POST", path, body); }

    // `extra` is more members for the /init body, e.g. `"max_retries": 1`.
    void init(const std::string& extra = "") {
        std::string body = std::string(R"({"api_key":")") + kApiKey + R"(","host":")" + sink.url() + "\"";
        if (!extra.empty()) body += "," + extra;
        Answer a = post("/init", body + "}");
        REQUIRE(a.status == 200);
        REQUIRE(a.json["success"].GetBool());
    }

    // Returns the uuid the adapter answered with.
    std::string capture(const std::string& event, const std::string& properties = "null",
                        const std::string& timestamp = "null") {
        Answer a = post("/capture", R"({"distinct_id":"user-1","event":")" + event +
                                        R"(","properties":)" + properties + R"(,"timestamp":)" + timestamp + "}");
        REQUIRE(a.status == 200);
        REQUIRE(a.json["success"].GetBool());
        REQUIRE(a.json["uuid"].IsString());
        return a.json["uuid"].GetString();
    }

    // Returns events_flushed.
    std::int64_t flush() {
        Answer a = post("/flush");
        REQUIRE(a.status == 200);
        REQUIRE(a.json["success"].GetBool());
        return a.json["events_flushed"].GetInt64();
    }

    int port() const { return port_; }

    PostHogSink sink;
    AdapterServer adapter;

private:
    static int start_both(PostHogSink& s, AdapterServer& a) {
        s.start();
        return a.start();
    }
    int port_;
};

std::vector<std::string> uuids_in(const ReceivedRequest& request) {
    std::vector<std::string> out;
    for (const auto& e : request.events) out.emplace_back(parse_json(e)["uuid"].GetString());
    return out;
}

std::vector<std::string> uuid_list(const rapidjson::Value& request_made) {
    std::vector<std::string> out;
    for (const auto& u : request_made["uuid_list"].GetArray()) out.emplace_back(u.GetString());
    return out;
}

// Sends `request` verbatim over a fresh connection and returns everything
// the server answered until it closed the connection.
std::string raw_exchange(int port, const std::string& request) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string answer;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
        char buf[4096];
        for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return answer;
}

std::vector<Step> always(int status, int times) {
    std::vector<Step> steps(static_cast<std::size_t>(times));
    for (auto& s : steps) s.status = status;
    return steps;
}

}  // namespace

TEST_CASE("/health names our SDK and only the suites our shipper supports", "[compliance]") {
    Rig rig;
    Answer a = rig.get("/health");
    REQUIRE(a.status == 200);
    CHECK(member_names(a.json) ==
          std::vector<std::string>{"sdk_name", "sdk_version", "adapter_version", "capabilities"});
    CHECK(std::string(a.json["sdk_name"].GetString()) == arcade::build::kLibName);
    CHECK(std::string(a.json["sdk_version"].GetString()) == arcade::build::kVersion);
    CHECK(std::string(a.json["adapter_version"].GetString()) == "1.0.0");
    std::vector<std::string> caps;
    for (const auto& c : a.json["capabilities"].GetArray()) caps.emplace_back(c.GetString());
    CHECK(caps == std::vector<std::string>{"capture_v0", "encoding_gzip"});
}

TEST_CASE("a captured event is delivered once, with the uuid /capture returned", "[compliance]") {
    Rig rig;
    rig.init(R"("flush_at":1,"flush_interval_ms":500,"enable_compression":false)");

    SECTION("custom properties keep their JSON types and gain $lib") {
        std::string uuid = rig.capture(
            "test_event", R"({"custom_string":"hello","custom_number":42,"custom_float":1.5,"custom_bool":true,)"
                          R"("custom_null":null,"custom_list":[1,"a"],"custom_object":{"k":"v"}})");
        // Nothing goes out before /flush.
        CHECK(rig.sink.requests().empty());
        CHECK(rig.flush() == 1);

        auto requests = rig.sink.requests();
        REQUIRE(requests.size() == 1);
        const ReceivedRequest& r = requests[0];
        CHECK(r.status_returned == 200);
        CHECK(r.error.empty());
        CHECK(r.api_key == kApiKey);
        CHECK(r.gzip_header);
        REQUIRE(r.events.size() == 1);
        auto event = parse_json(r.events[0]);
        CHECK(std::string(event["uuid"].GetString()) == uuid);
        CHECK(std::string(event["event"].GetString()) == "test_event");
        CHECK(std::string(event["distinct_id"].GetString()) == "user-1");
        const auto& p = event["properties"];
        CHECK(std::string(p["custom_string"].GetString()) == "hello");
        CHECK((p["custom_number"].IsInt() && p["custom_number"].GetInt() == 42));
        CHECK((p["custom_float"].IsDouble() && p["custom_float"].GetDouble() == 1.5));
        CHECK((p["custom_bool"].IsBool() && p["custom_bool"].GetBool()));
        CHECK(p["custom_null"].IsNull());
        CHECK(p["custom_list"].Size() == 2);
        CHECK(std::string(p["custom_object"]["k"].GetString()) == "v");
        CHECK(std::string(p["$lib"].GetString()) == arcade::build::kLibName);
        CHECK(std::string(p["$lib_version"].GetString()) == arcade::build::kVersion);
        // The harness's distinct id is never the journal's anonymous id.
        CHECK_FALSE(p.HasMember("$process_person_profile"));

        Answer state = rig.get("/state");
        CHECK(member_names(state.json) ==
              std::vector<std::string>{"pending_events", "total_events_captured", "total_events_sent",
                                       "total_retries", "last_error", "requests_made"});
        CHECK(state.json["pending_events"].GetInt64() == 0);
        CHECK(state.json["total_events_captured"].GetInt64() == 1);
        CHECK(state.json["total_events_sent"].GetInt64() == 1);
        CHECK(state.json["total_retries"].GetInt64() == 0);
        CHECK(state.json["last_error"].IsNull());
        const auto& made = state.json["requests_made"];
        REQUIRE(made.Size() == 1);
        CHECK(made[0]["status_code"].GetInt() == 200);
        CHECK(made[0]["retry_attempt"].GetInt() == 0);
        CHECK(made[0]["event_count"].GetInt() == 1);
        CHECK(uuid_list(made[0]) == std::vector<std::string>{uuid});
        CHECK(std::string(made[0]["url"].GetString()) == rig.sink.url() + "/batch/");
        CHECK(std::string(made[0]["method"].GetString()) == "POST");
        CHECK(std::abs(made[0]["timestamp_ms"].GetInt64() - r.received_ms) < 5000);

        // A second flush has nothing left to send.
        CHECK(rig.flush() == 0);
        CHECK(rig.sink.requests().size() == 1);
    }

    SECTION("null properties become an object with $lib") {
        rig.capture("bare");
        CHECK(rig.flush() == 1);
        REQUIRE(rig.sink.requests().size() == 1);
        auto event = parse_json(rig.sink.requests()[0].events.at(0));
        CHECK(member_names(event["properties"]) == std::vector<std::string>{"$lib", "$lib_version"});
    }

    SECTION("a $lib the caller set is kept") {
        rig.capture("own_lib", R"({"$lib":"harness","$lib_version":"9"})");
        CHECK(rig.flush() == 1);
        auto event = parse_json(rig.sink.requests().at(0).events.at(0));
        CHECK(std::string(event["properties"]["$lib"].GetString()) == "harness");
        CHECK(std::string(event["properties"]["$lib_version"].GetString()) == "9");
    }
}

TEST_CASE("an event's timestamp arrives as the same instant in UTC", "[compliance]") {
    Rig rig;
    rig.init();

    SECTION("a given timestamp, whatever its offset") {
        auto [given, sent] = GENERATE(table<std::string, std::string>({
            {"2026-01-01T10:00:00+02:00", "2026-01-01T08:00:00.000Z"},
            {"2026-01-01T08:00:00Z", "2026-01-01T08:00:00.000Z"},
            {"2025-12-31T22:30:00.250-09:30", "2026-01-01T08:00:00.250Z"},
        }));
        rig.capture("dated", R"({"timestamp_like":")" + given + "\"}", "\"" + given + "\"");
        CHECK(rig.flush() == 1);
        auto event = parse_json(rig.sink.requests().at(0).events.at(0));
        CHECK(std::string(event["timestamp"].GetString()) == sent);
        // A property that looks like a timestamp is the caller's and stays as given.
        CHECK(std::string(event["properties"]["timestamp_like"].GetString()) == given);
    }

    SECTION("no timestamp means now") {
        std::int64_t before = now_ms();
        rig.capture("undated");
        std::int64_t after = now_ms();
        CHECK(rig.flush() == 1);
        auto event = parse_json(rig.sink.requests().at(0).events.at(0));
        std::string ts = event["timestamp"].GetString();
        REQUIRE(ts.size() == 24);
        CHECK(ts.back() == 'Z');
        // The sink checked the format; the uuid's v7 prefix carries the same instant.
        std::string uuid = event["uuid"].GetString();
        std::string hex = uuid.substr(0, 8) + uuid.substr(9, 4);
        std::int64_t uuid_ms = std::stoll(hex, nullptr, 16);
        CHECK(uuid_ms >= before);
        CHECK(uuid_ms <= after);
    }
}

TEST_CASE("events captured before a flush go out together, each once", "[compliance]") {
    Rig rig;
    rig.init(R"("flush_at":10)");
    std::vector<std::string> captured;
    for (int i = 0; i < 5; ++i) captured.push_back(rig.capture("test_event_" + std::to_string(i)));
    CHECK(std::set<std::string>(captured.begin(), captured.end()).size() == 5);

    CHECK(rig.flush() == 5);
    auto requests = rig.sink.requests();
    REQUIRE(requests.size() == 1);
    CHECK(uuids_in(requests[0]) == captured);  // journal order, no duplicates
    Answer state = rig.get("/state");
    CHECK(state.json["requests_made"][0]["event_count"].GetInt() == 5);
    CHECK(uuid_list(state.json["requests_made"][0]) == captured);
}

TEST_CASE("a flush with nothing captured sends nothing", "[compliance]") {
    Rig rig;
    rig.init();
    CHECK(rig.flush() == 0);
    CHECK(rig.sink.requests().empty());
    Answer state = rig.get("/state");
    CHECK(state.json["requests_made"].Size() == 0);
    CHECK(state.json["total_events_sent"].GetInt64() == 0);
}

TEST_CASE("a failed batch is retried with backoff and byte-identical events", "[compliance]") {
    Rig rig;
    rig.sink.script(parse_script("500,500,200"));
    rig.init();
    std::string uuid = rig.capture("retried");
    CHECK(rig.flush() == 1);

    auto requests = rig.sink.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].status_returned == 500);
    CHECK(requests[2].status_returned == 200);
    for (const auto& r : requests) {
        REQUIRE(r.events.size() == 1);
        CHECK(r.events[0] == requests[0].events[0]);  // same uuid and timestamp
        CHECK(uuids_in(r) == std::vector<std::string>{uuid});
    }
    CHECK(requests[1].received_ms - requests[0].received_ms >= 100);
    CHECK(requests[2].received_ms - requests[1].received_ms > requests[1].received_ms - requests[0].received_ms);

    Answer state = rig.get("/state");
    CHECK(state.json["total_retries"].GetInt64() == 2);
    CHECK(state.json["total_events_sent"].GetInt64() == 1);
    CHECK(state.json["pending_events"].GetInt64() == 0);
    const auto& made = state.json["requests_made"];
    REQUIRE(made.Size() == 3);
    for (rapidjson::SizeType i = 0; i < 3; ++i) {
        CHECK(made[i]["retry_attempt"].GetInt() == static_cast<int>(i));
        CHECK(uuid_list(made[i]) == std::vector<std::string>{uuid});
    }
    CHECK(made[0]["status_code"].GetInt() == 500);
    CHECK(made[2]["status_code"].GetInt() == 200);
}

TEST_CASE("max_retries is respected exactly", "[compliance]") {
    auto [max_retries, attempts] = GENERATE(table<int, std::size_t>({{0, 1}, {1, 2}, {3, 4}}));
    Rig rig;
    rig.sink.script(always(503, 10));
    rig.init("\"max_retries\":" + std::to_string(max_retries));
    rig.capture("doomed");

    // Retries exhausted: the flush ends, the event stays journaled.
    CHECK(rig.flush() == 0);
    CHECK(rig.sink.requests().size() == attempts);
    Answer state = rig.get("/state");
    CHECK(state.json["total_retries"].GetInt64() == max_retries);
    CHECK(state.json["pending_events"].GetInt64() == 1);
    CHECK(state.json["total_events_sent"].GetInt64() == 0);
    REQUIRE(state.json["last_error"].IsString());
    CHECK_THAT(state.json["last_error"].GetString(), Catch::Contains("503"));
    CHECK(state.json["requests_made"].Size() == attempts);
}

TEST_CASE("Retry-After is a floor for the next attempt", "[compliance]") {
    Rig rig;
    Step limited;
    limited.status = 429;
    limited.retry_after = "3";
    rig.sink.script({limited});
    rig.init();
    rig.capture("rate_limited");
    CHECK(rig.flush() == 1);
    auto requests = rig.sink.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].received_ms - requests[0].received_ms >= 3000);
    CHECK(requests[1].status_returned == 200);
}

TEST_CASE("refused batches are not retried", "[compliance]") {
    // 400/413 set the offending event aside; 401/403 keep it for a later run.
    auto [status, still_pending] = GENERATE(table<int, std::int64_t>({{400, 0}, {413, 0}, {401, 1}, {403, 1}}));
    Rig rig;
    rig.sink.script(always(status, 3));
    rig.init();
    rig.capture("refused");
    CHECK(rig.flush() == 0);
    CHECK(rig.sink.requests().size() == 1);
    Answer state = rig.get("/state");
    CHECK(state.json["pending_events"].GetInt64() == still_pending);
    CHECK(state.json["total_retries"].GetInt64() == 0);
    CHECK(state.json["last_error"].IsString());
}

TEST_CASE("malformed requests are refused with 400 and a JSON error", "[compliance]") {
    Rig rig;

    SECTION("/capture before /init") {
        Answer a = rig.post("/capture", R"({"distinct_id":"u","event":"e"})");
        CHECK(a.status == 400);
        CHECK_FALSE(a.json["success"].GetBool());
        CHECK_THAT(a.json["error"].GetString(), Catch::Contains("init"));
    }

    SECTION("bad /capture bodies") {
        rig.init();
        std::string body = GENERATE(as<std::string>{}, "", "not json", "[]", R"({"event":"e"})",
                                    R"({"distinct_id":"u"})", R"({"distinct_id":"","event":"e"})",
                                    R"({"distinct_id":"  ","event":"e"})", R"({"distinct_id":"u","event":""})",
                                    R"({"distinct_id":7,"event":"e"})", R"({"distinct_id":"u","event":"e","properties":[]})",
                                    R"({"distinct_id":"u","event":"e","properties":"x"})",
                                    R"({"distinct_id":"u","event":"e","timestamp":"yesterday"})",
                                    R"({"distinct_id":"u","event":"e","timestamp":"2026-01-01T10:00:00"})",
                                    R"({"distinct_id":"u","event":"e","timestamp":1767225600})",
                                    "{\"distinct_id\":\"u\",\"event\":\"\xff\"}");
        INFO(body);
        Answer a = rig.post("/capture", body);
        CHECK(a.status == 400);
        CHECK_FALSE(a.json["success"].GetBool());
        CHECK(a.json["error"].GetStringLength() > 0);
        // Nothing was journaled, so nothing is sent.
        CHECK(rig.get("/state").json["total_events_captured"].GetInt64() == 0);
        CHECK(rig.flush() == 0);
        CHECK(rig.sink.requests().empty());
    }

    SECTION("bad /init bodies") {
        std::string body = GENERATE(as<std::string>{}, "", "{}", R"({"host":"http://127.0.0.1:9"})",
                                    R"({"api_key":"k"})", R"({"api_key":"k","host":"ftp://x"})",
                                    R"({"api_key":"","host":"http://127.0.0.1:9"})",
                                    R"({"api_key":"k","host":"http://127.0.0.1:9","max_retries":-1})",
                                    R"({"api_key":"k","host":"http://127.0.0.1:9","max_retries":"3"})",
                                    R"({"api_key":"k","host":"http://127.0.0.1:9","flush_at":1.5})",
                                    R"({"api_key":"k","host":"http://127.0.0.1:9","enable_compression":"yes"})");
        INFO(body);
        Answer a = rig.post("/init", body);
        CHECK(a.status == 400);
        CHECK_FALSE(a.json["success"].GetBool());
        CHECK(a.json["error"].GetStringLength() > 0);
    }

    SECTION("an unknown endpoint") {
        Answer a = rig.post("/identify", "{}");
        CHECK(a.status == 404);
        CHECK_FALSE(a.json["success"].GetBool());
    }
}

TEST_CASE("a bodiless POST without Content-Length is an empty body", "[compliance]") {
    // What `curl -XPOST` and Python's urllib send for POST /flush and /reset.
    Rig rig;
    rig.init();
    rig.capture("bodiless");
    std::string path = GENERATE(as<std::string>{}, "/flush", "/reset");
    std::string answer = raw_exchange(rig.port(), "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Connection: close\r\n\r\n");
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(answer.find(R"("success":true)") != std::string::npos);
    Answer state = rig.get("/state");
    if (path == "/flush") CHECK(state.json["total_events_sent"].GetInt64() == 1);
    else CHECK(state.json["total_events_captured"].GetInt64() == 0);
}

TEST_CASE("/reset stops a retry in progress promptly and drops everything", "[compliance]") {
    Rig rig;
    constexpr auto limit = 1s;
    SECTION("during a Retry-After wait") {
        Step limited;
        limited.status = 503;
        limited.retry_after = "10";
        rig.sink.script(std::vector<Step>(5, limited));
    }
    SECTION("while a request hangs") {
        Step hang;
        hang.kind = Step::hang;
        rig.sink.script({hang});
    }
    rig.init("\"max_retries\":3");
    rig.capture("interrupted");

    auto flushing = std::async(std::launch::async, [&] { return rig.post("/flush"); });
    auto deadline = SteadyClock::now() + 5s;
    while (rig.sink.requests().empty() && SteadyClock::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(rig.sink.requests().size() == 1);
    std::this_thread::sleep_for(100ms);  // into the wait or the hanging request

    auto started = SteadyClock::now();
    Answer reset = rig.post("/reset");
    CHECK(SteadyClock::now() - started < limit);
    CHECK(reset.status == 200);
    CHECK(reset.json["success"].GetBool());
    REQUIRE(flushing.wait_for(limit) == std::future_status::ready);
    Answer flushed = flushing.get();
    CHECK(flushed.status == 200);
    CHECK_FALSE(flushed.json["success"].GetBool());

    std::this_thread::sleep_for(300ms);
    CHECK(rig.sink.requests().size() == 1);  // no attempt after the reset
    Answer state = rig.get("/state");
    CHECK(state.json["pending_events"].GetInt64() == 0);
    CHECK(state.json["total_events_captured"].GetInt64() == 0);
    CHECK(state.json["total_retries"].GetInt64() == 0);
    CHECK(state.json["requests_made"].Size() == 0);
    CHECK(state.json["last_error"].IsNull());
    CHECK(rig.post("/capture", R"({"distinct_id":"u","event":"e"})").status == 400);

    // A new session starts from an empty journal: the old event is gone.
    rig.init();
    CHECK(rig.flush() == 0);
    CHECK(rig.sink.requests().size() == 1);
}

TEST_CASE("the binary serves on 127.0.0.1 and prints its port", "[compliance]") {
    const char* bin = std::getenv("ARCADE_ADAPTER_BIN");
    INFO("ARCADE_ADAPTER_BIN is set by CTest");
    REQUIRE(bin != nullptr);

    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> argv = {const_cast<char*>(bin), const_cast<char*>("--port"), const_cast<char*>("0"), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, bin, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    REQUIRE(rc == 0);

    std::string line;
    char c;
    while (line.size() < 200 && read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const std::string prefix = "listening on http://127.0.0.1:";
    bool printed = line.rfind(prefix, 0) == 0;
    int port = printed ? std::atoi(line.c_str() + prefix.size()) : 0;

    int health_status = 0;
    if (port > 0) {
        httplib::Client client("127.0.0.1", port);
        if (auto res = client.Get("/health")) health_status = res->status;
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);

    INFO(line);
    CHECK(printed);
    CHECK(port > 0);
    CHECK(health_status == 200);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
