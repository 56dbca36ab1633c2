// Issue 13, "hostile surroundings": each finding reproduced end to end with
// the real binaries in a throwaway home, loopback servers only.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "cli_harness.h"
#include "support/fake_arcade.h"
#include "support/loopback_listener.h"
#include "support/posthog_sink.h"

using namespace arcade::testing;
namespace fs = std::filesystem;

namespace {

// A loopback server whose every answer is `status` with `body`, or, when
// `stream_bytes` is set, a 200 whose body streams that many bytes in chunks
// (nothing that large is ever held in memory).
class ScriptedServer {
public:
    ScriptedServer(int status, std::string body, std::size_t stream_bytes = 0)
        : status_(status), body_(std::move(body)), stream_bytes_(stream_bytes) {
        server_.set_payload_max_length(1 << 20);
        server_.Get(".*", [this](const httplib::Request&, httplib::Response& res) { answer(res); });
        server_.Post(".*", [this](const httplib::Request&, httplib::Response& res) { answer(res); });
        listener_.start(0, "scripted server");
    }
    std::string url() const { return listener_.url(); }

private:
    void answer(httplib::Response& res) {
        res.status = status_;
        if (stream_bytes_ == 0) {
            res.set_content(body_, "application/json");
            return;
        }
        res.set_chunked_content_provider("application/json", [this](std::size_t offset, httplib::DataSink& sink) {
            static const std::string chunk(64 * 1024, ' ');
            if (offset >= stream_bytes_) {
                sink.done();
                return true;
            }
            // The body is a JSON array padded with spaces: a client that
            // read it all would need that many bytes of memory.
            if (offset == 0) return sink.write("[", 1);
            return sink.write(chunk.data(), chunk.size());
        });
    }

    int status_;
    std::string body_;
    std::size_t stream_bytes_;
    httplib::Server server_;
    LoopbackListener listener_{server_};
};

// Everything recorded about the events: the journal's rows and what PostHog got.
std::string everything_sent(const Arcade& a, const PostHogSink& sink) {
    std::string all;
    for (const auto& e : a.journal_events()) all += e.properties + "\n";
    for (const auto& r : sink.requests())
        for (const auto& e : r.events) all += e + "\n";
    return all;
}

}  // namespace

TEST_CASE("finding 5: a URL password with a dotless host never reaches the journal or PostHog", "[cli]") {
    PostHogSink sink;
    sink.start();
    FakeCloud cloud;
    cloud.set_principal("arc_o1SECRETo2SECRETo3", "principal-one");
    Arcade a(sink.url());
    a.env["ARCADE_CLOUD_URL"] = cloud.url();
    a.write_credentials("arc_o1SECRETo2SECRETo3", "ada@example.com");
    // 2130706433 is 127.0.0.1 written as one number: a host without a dot,
    // as `localhost` is, that cannot leave the machine.
    auto r = a.run({"worker", "--host", "http://bob:hunter2pass@2130706433:9/", "list"});
    CHECK(r.exit_code == 1);
    a.wait_shipper_idle();
    auto flush = a.run({"usage", "flush"});
    INFO(flush.out << flush.err);
    CHECK(flush.exit_code == 0);
    REQUIRE(sink.accepted_count() >= 1);
    const std::string sent = everything_sent(a, sink);
    CHECK(sent.find("worker.list") != std::string::npos);
    CHECK(sent.find("hunter2pass") == std::string::npos);
    CHECK(sent.find("bob:") == std::string::npos);
}

TEST_CASE("finding 6: a key of no known shape that a server echoes in a 401 is redacted by value", "[cli]") {
    const std::string key = "plainkey-no-shape";
    ScriptedServer engine(401, "{\"detail\":\"'" + key + "' was not recognised\"}");
    PostHogSink sink;
    sink.start();
    FakeCloud cloud;
    cloud.set_principal(key, "principal-one");
    Arcade a(sink.url());
    a.env["ARCADE_CLOUD_URL"] = cloud.url();
    a.write_credentials(key, "ada@example.com");
    a.env["ARCADE_ENGINE_URL"] = engine.url();
    auto r = a.run({"worker", "list"});
    CHECK(r.exit_code == 1);
    a.wait_shipper_idle();
    auto flush = a.run({"usage", "flush"});
    INFO(flush.out << flush.err);
    CHECK(flush.exit_code == 0);
    REQUIRE(sink.accepted_count() >= 1);
    const std::string sent = everything_sent(a, sink);
    CHECK(sent.find("worker.list") != std::string::npos);
    CHECK(sent.find(key) == std::string::npos);
}
