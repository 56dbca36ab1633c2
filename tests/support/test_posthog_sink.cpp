// Checks the loopback PostHog sink the way a shipper would meet it: over real
// HTTP on 127.0.0.1, through httplib's client.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support/posthog_sink.h"

#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using arcade::testing::parse_script;
using arcade::testing::parse_step;
using arcade::testing::PostHogSink;
using arcade::testing::Step;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char *kEvent =
    R"({"event":"cli.run","distinct_id":"user-1","uuid":"0190b8f4-8f2a-7cc3-9b1e-6f3a2d1c4b5a",)"
    R"("timestamp":"2026-11-27T12:40:30.123Z","properties":{"$lib":"arcade","$lib_version":"0.1.0"}})";
constexpr const char *kOtherEvent =
    R"({"event":"cli.login","distinct_id":"user-1","uuid":"0190b8f4-8f2a-7cc3-9b1e-6f3a2d1c4b5b",)"
    R"("properties":{"count":3,"ok":true}})";

std::string batch_body(const std::string &events, const std::string &key = "phc_test") {
  return R"({"api_key":")" + key + R"(","batch":[)" + events +
         R"(],"sent_at":"2026-11-27T12:40:31.000Z"})";
}

std::string two_events() { return batch_body(std::string(kEvent) + "," + kOtherEvent); }

std::string gzip(std::string_view text) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                       Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, text.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

httplib::Result post(httplib::Client &client, const std::string &body,
                     const httplib::Headers &headers = {}, const std::string &path = "/batch/") {
  return client.Post(path.c_str(), headers, body, "application/json");
}

// Starts a sink on a free port and a client pointed at it; the client is
// declared last so it closes its connection before the sink stops.
struct Fixture {
  explicit Fixture(std::string required_key = "")
      : sink(std::move(required_key)), port(sink.start()), client("127.0.0.1", port) {}
  PostHogSink sink;
  int port;
  httplib::Client client;
};

}  // namespace

TEST_CASE("a plain batch is accepted and recorded", "[support]") {
  Fixture f;
  REQUIRE(f.sink.url().rfind("http://127.0.0.1:", 0) == 0);

  auto res = post(f.client, two_events(), {{"User-Agent", "arcade/0.1.0"}});
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"status": 1})");

  const auto requests = f.sink.requests();
  REQUIRE(requests.size() == 1);
  const auto &r = requests[0];
  CHECK(r.path == "/batch/");
  CHECK(r.status_returned == 200);
  CHECK(r.error.empty());
  CHECK(r.api_key == "phc_test");
  CHECK(r.sent_at == "2026-11-27T12:40:31.000Z");
  CHECK_FALSE(r.gzip_header);
  CHECK_FALSE(r.gzip_body);
  CHECK(r.body_bytes == two_events().size());
  CHECK(r.headers.at("user-agent") == "arcade/0.1.0");
  CHECK(r.headers.at("content-type") == "application/json");
  CHECK(r.headers.count("remote_addr") == 0);
  CHECK(r.received_ms > 0);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0] == kEvent);
  CHECK(r.events[1] == kOtherEvent);
  CHECK(f.sink.accepted_count() == 2);
  CHECK(f.sink.accepted_events() == std::vector<std::string>{kEvent, kOtherEvent});
  CHECK(f.sink.max_concurrent_requests() == 1);
}

TEST_CASE("events are re-serialised compactly", "[support]") {
  Fixture f;
  auto res = post(f.client, batch_body(R"({ "event" : "e",  "distinct_id" : 42 })"), {},
                  "/batch");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(f.sink.requests().at(0).path == "/batch");
  CHECK(f.sink.accepted_events() == std::vector<std::string>{R"({"event":"e","distinct_id":42})"});
}

TEST_CASE("gzip bodies are decoded by header or by magic bytes", "[support]") {
  Fixture f;
  SECTION("Content-Encoding: gzip") {
    auto res = post(f.client, gzip(two_events()), {{"Content-Encoding", "gzip"}});
    REQUIRE(res);
    CHECK(res->status == 200);
    const auto r = f.sink.requests().at(0);
    CHECK(r.gzip_header);
    CHECK(r.gzip_body);
    CHECK(r.headers.at("content-encoding") == "gzip");
    CHECK(r.body_bytes == gzip(two_events()).size());
    CHECK(r.events.size() == 2);
    CHECK(f.sink.accepted_count() == 2);
  }
  SECTION("magic bytes without the header") {
    auto res = post(f.client, gzip(two_events()));
    REQUIRE(res);
    CHECK(res->status == 200);
    const auto r = f.sink.requests().at(0);
    CHECK_FALSE(r.gzip_header);
    CHECK(r.gzip_body);
    CHECK(r.headers.count("content-encoding") == 0);
    CHECK(f.sink.accepted_count() == 2);
  }
  SECTION("the header on a body that is not gzip") {
    auto res = post(f.client, two_events(), {{"Content-Encoding", "gzip"}});
    REQUIRE(res);
    CHECK(res->status == 400);
    const auto r = f.sink.requests().at(0);
    CHECK(r.gzip_header);
    CHECK_FALSE(r.gzip_body);
    CHECK(f.sink.accepted_count() == 0);
  }
}

TEST_CASE("a batch with any invalid part is refused whole with 400", "[support]") {
  const auto [label, body] = GENERATE(table<std::string, std::string>({
      {"not JSON", "this is not json"},
      {"not an object", "[1,2]"},
      {"batch missing", R"({"api_key":"phc_test"})"},
      {"batch not an array", R"({"api_key":"phc_test","batch":{"event":"e"}})"},
      {"batch empty", batch_body("")},
      {"event not an object", batch_body(R"("cli.run")")},
      {"event name missing", batch_body(R"({"distinct_id":"u"})")},
      {"event name empty", batch_body(R"({"event":"","distinct_id":"u"})")},
      {"distinct_id missing", batch_body(R"({"event":"e","properties":{}})")},
      {"distinct_id empty", batch_body(R"({"event":"e","distinct_id":""})")},
      {"distinct_id empty, fallback set",
       batch_body(R"({"event":"e","distinct_id":"","properties":{"distinct_id":"u"}})")},
      {"distinct_id not a string", batch_body(R"({"event":"e","distinct_id":{"a":1}})")},
      {"uuid invalid", batch_body(R"({"event":"e","distinct_id":"u","uuid":"not-a-uuid"})")},
      {"uuid not a string", batch_body(R"({"event":"e","distinct_id":"u","uuid":7})")},
      {"properties not an object", batch_body(R"({"event":"e","distinct_id":"u","properties":[1]})")},
      {"one bad event among good ones",
       batch_body(std::string(kEvent) + R"(,{"event":"e","distinct_id":""},)" + kOtherEvent)},
  }));
  INFO(label);
  Fixture f;
  auto res = post(f.client, body);
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body.find("validation_error") != std::string::npos);
  const auto requests = f.sink.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].status_returned == 400);
  CHECK_FALSE(requests[0].error.empty());
  CHECK(f.sink.accepted_count() == 0);
  CHECK(f.sink.accepted_events().empty());
}

TEST_CASE("distinct_id may come from properties", "[support]") {
  Fixture f;
  auto res = post(f.client, batch_body(R"({"event":"e","properties":{"distinct_id":"u"}})"));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(f.sink.accepted_count() == 1);
}

TEST_CASE("an event above 1 MiB fails the request with 413", "[support]") {
  Fixture f;
  const std::string big(1100 * 1024, 'x');
  auto res = post(f.client,
                  batch_body(R"({"event":"e","distinct_id":"u","properties":{"blob":")" + big + R"("}})"));
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(f.sink.accepted_count() == 0);
}

TEST_CASE("a missing or wrong api_key is refused with 401", "[support]") {
  SECTION("missing") {
    Fixture f;
    auto res = post(f.client, R"({"batch":[)" + std::string(kEvent) + "]}");
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(f.sink.requests().at(0).status_returned == 401);
    CHECK(f.sink.accepted_count() == 0);
  }
  SECTION("empty") {
    Fixture f;
    auto res = post(f.client, batch_body(kEvent, ""));
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  SECTION("different from the required key") {
    Fixture f("phc_right");
    auto res = post(f.client, batch_body(kEvent, "phc_wrong"));
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(f.sink.requests().at(0).api_key == "phc_wrong");
    res = post(f.client, batch_body(kEvent, "phc_right"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(f.sink.accepted_count() == 1);
  }
}

TEST_CASE("scripted statuses answer in order, then normal behaviour resumes", "[support]") {
  Fixture f;
  f.sink.script(parse_script("500,200"));
  const std::vector<int> expected{500, 200, 200};
  for (const int status : expected) {
    auto res = post(f.client, batch_body(kEvent));
    REQUIRE(res);
    CHECK(res->status == status);
  }
  const auto requests = f.sink.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].status_returned == 500);
  CHECK(requests[0].events == std::vector<std::string>{kEvent});
  CHECK(f.sink.accepted_count() == 2);
}

TEST_CASE("a scripted 2xx does not hide an invalid batch", "[support]") {
  Fixture f;
  f.sink.script({Step{}});
  auto res = post(f.client, batch_body(R"({"event":"","distinct_id":"u"})"));
  REQUIRE(res);
  CHECK(res->status == 400);
}

TEST_CASE("a scripted 429 carries Retry-After", "[support]") {
  Fixture f;
  f.sink.script(parse_script("429:2"));
  auto res = post(f.client, batch_body(kEvent));
  REQUIRE(res);
  CHECK(res->status == 429);
  CHECK(res->get_header_value("Retry-After") == "2");
  CHECK(f.sink.accepted_count() == 0);
}

TEST_CASE("a scripted body replaces the default", "[support]") {
  Fixture f;
  Step step;
  step.status = 503;
  step.body = "upstream down";
  f.sink.script({step});
  auto res = post(f.client, batch_body(kEvent));
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(res->body == "upstream down");
}

TEST_CASE("a scripted reset gives the client an error, not a status", "[support]") {
  Fixture f;
  f.sink.script(parse_script("reset"));
  auto res = post(f.client, batch_body(kEvent));
  REQUIRE_FALSE(res);
  CHECK(res.error() != httplib::Error::Success);
  const auto requests = f.sink.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].status_returned == 0);
  CHECK(f.sink.accepted_count() == 0);

  res = post(f.client, batch_body(kEvent));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("a scripted hang outlasts the client's timeout and does not block stop", "[support]") {
  PostHogSink sink;
  sink.start();
  sink.script(parse_script("hang"));
  {
    httplib::Client client(sink.url());
    client.set_read_timeout(0, 300'000);
    const auto before = Clock::now();
    auto res = post(client, batch_body(kEvent));
    REQUIRE_FALSE(res);
    CHECK(res.error() == httplib::Error::Read);
    CHECK(Clock::now() - before < 2s);
  }
  CHECK(sink.requests().size() == 1);
  const auto before_stop = Clock::now();
  sink.stop();
  CHECK(Clock::now() - before_stop < 2s);
  CHECK(sink.requests().at(0).status_returned == 0);
  CHECK(sink.accepted_count() == 0);
}

TEST_CASE("a scripted slow answer trickles one byte per second", "[support]") {
  Fixture f;
  f.sink.script(parse_script("slow"));
  f.client.set_read_timeout(0, 300'000);
  auto res = post(f.client, batch_body(kEvent));
  REQUIRE_FALSE(res);
  // The sink took the events; only the acknowledgement is slow.
  CHECK(f.sink.requests().at(0).status_returned == 200);
  CHECK(f.sink.accepted_count() == 1);
}

TEST_CASE("max_concurrent_requests counts overlapping requests", "[support]") {
  Fixture f;
  SECTION("two overlapping requests") {
    f.sink.script(parse_script("delay=400:200,delay=400:200"));
    std::vector<int> statuses(2, 0);
    std::vector<std::thread> senders;
    for (int i = 0; i < 2; ++i) {
      senders.emplace_back([&, i] {
        httplib::Client client(f.sink.url());
        if (auto res = post(client, batch_body(kEvent))) statuses[i] = res->status;
      });
    }
    for (auto &sender : senders) sender.join();
    CHECK(statuses == std::vector<int>{200, 200});
    CHECK(f.sink.max_concurrent_requests() == 2);
  }
  SECTION("two requests one after the other") {
    f.sink.script(parse_script("delay=50:200,delay=50:200"));
    for (int i = 0; i < 2; ++i) REQUIRE(post(f.client, batch_body(kEvent)));
    CHECK(f.sink.max_concurrent_requests() == 1);
  }
  f.sink.clear();
  CHECK(f.sink.requests().empty());
  CHECK(f.sink.accepted_count() == 0);
  CHECK(f.sink.max_concurrent_requests() == 0);
}

TEST_CASE("wait_for_accepted waits for events and times out without them", "[support]") {
  Fixture f;
  f.sink.script(parse_script("delay=200:200"));
  std::thread sender([&] {
    httplib::Client client(f.sink.url());
    post(client, two_events());
  });
  CHECK_FALSE(f.sink.wait_for_accepted(1, 20ms));
  CHECK(f.sink.wait_for_accepted(2, 5s));
  CHECK_FALSE(f.sink.wait_for_accepted(3, 50ms));
  sender.join();
}

TEST_CASE("the accepted-request observer sees each accepted request once", "[support]") {
  Fixture f;
  std::vector<std::string> seen;
  f.sink.on_accepted([&seen](const arcade::testing::ReceivedRequest &r) {
    seen.insert(seen.end(), r.events.begin(), r.events.end());
  });
  f.sink.script(parse_script("500"));
  REQUIRE(post(f.client, batch_body(kEvent)));
  REQUIRE(post(f.client, two_events()));
  CHECK(seen == std::vector<std::string>{kEvent, kOtherEvent});
}

TEST_CASE("GET /health answers ok", "[support]") {
  Fixture f;
  auto res = f.client.Get("/health");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "ok");
  CHECK(f.sink.requests().empty());
}

TEST_CASE("start refuses a second call and a taken port", "[support]") {
  PostHogSink first;
  const int port = first.start();
  CHECK_THROWS_AS(first.start(), std::logic_error);
  PostHogSink second;
  CHECK_THROWS_AS(second.start(port), std::runtime_error);
}

TEST_CASE("script steps parse from their compact form", "[support]") {
  SECTION("statuses and Retry-After") {
    const Step ok = parse_step("200");
    CHECK(ok.kind == Step::respond);
    CHECK(ok.status == 200);
    CHECK(ok.retry_after.empty());
    CHECK(ok.delay == 0ms);
    const Step limited = parse_step("429:2");
    CHECK(limited.status == 429);
    CHECK(limited.retry_after == "2");
  }
  SECTION("faults and delays") {
    CHECK(parse_step("reset").kind == Step::reset);
    CHECK(parse_step("hang").kind == Step::hang);
    CHECK(parse_step("slow").kind == Step::slow);
    const Step delayed = parse_step("delay=3000:200");
    CHECK(delayed.kind == Step::respond);
    CHECK(delayed.status == 200);
    CHECK(delayed.delay == 3000ms);
    const Step long_hang = parse_step("delay=500:hang");
    CHECK(long_hang.kind == Step::hang);
    CHECK(long_hang.delay == 500ms);
  }
  SECTION("scripts") {
    const auto steps = parse_script("500, 429:1 ,200");
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].status == 500);
    CHECK(steps[1].retry_after == "1");
    CHECK(steps[2].status == 200);
    CHECK(parse_script("").empty());
  }
  SECTION("rejects nonsense") {
    const auto text = GENERATE(as<std::string>{}, "", "abc", "20", "700", "429:", "delay=:200",
                               "delay=10", "delay=x:200", "-200");
    INFO(text);
    CHECK_THROWS_AS(parse_step(text), std::invalid_argument);
  }
  SECTION("rejects a script with an empty step") {
    CHECK_THROWS_AS(parse_script("500,,200"), std::invalid_argument);
  }
}
