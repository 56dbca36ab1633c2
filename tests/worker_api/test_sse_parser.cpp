#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "worker_api/sse_parser.h"

using arcade::worker_api::SseEvent;
using arcade::worker_api::SseParser;

namespace {

SseEvent ev(std::string type, std::string data, std::string id = {}, bool has_data = true) {
    return SseEvent{std::move(type), std::move(data), std::move(id), has_data};
}

std::vector<SseEvent> parse_whole(std::string_view stream) {
    SseParser parser;
    return parser.feed(stream);
}

std::vector<SseEvent> parse_in_pieces(std::string_view stream, const std::vector<std::size_t>& cuts) {
    SseParser parser;
    std::vector<SseEvent> all;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        for (auto& e : parser.feed(stream.substr(from, cut - from))) all.push_back(std::move(e));
        from = cut;
    }
    for (auto& e : parser.feed(stream.substr(from))) all.push_back(std::move(e));
    return all;
}

}  // namespace

TEST_CASE("SseParser reads fields and dispatches on blank lines", "[worker_api]") {
    SECTION("data lines, one event each") {
        CHECK(parse_whole("data: first\n\ndata: second\n\n") ==
              std::vector<SseEvent>{ev("", "first"), ev("", "second")});
    }
    SECTION("multi-line data is joined with newlines") {
        CHECK(parse_whole("data: a\ndata:b\ndata:  c\n\n") == std::vector<SseEvent>{ev("", "a\nb\n c")});
    }
    SECTION("event type, id, comments and unknown fields") {
        CHECK(parse_whole(": keep-alive\nid: 7\nretry: 100\nfoo: bar\nevent: log\ndata: x\n\n") ==
              std::vector<SseEvent>{ev("log", "x", "7")});
    }
    SECTION("the id persists across events and NUL ids are ignored") {
        std::string stream = "id: 1\ndata: a\n\ndata: b\n\nid: 2";
        stream.push_back('\0');
        stream += "x\ndata: c\n\n";
        CHECK(parse_whole(stream) == std::vector<SseEvent>{ev("", "a", "1"), ev("", "b", "1"), ev("", "c", "1")});
    }
    SECTION("a field without a colon has an empty value") {
        CHECK(parse_whole("data\n\n") == std::vector<SseEvent>{ev("", "")});
    }
    SECTION("an error event without data is still dispatched") {
        CHECK(parse_whole("event: error\n\n") == std::vector<SseEvent>{ev("error", "", "", false)});
    }
    SECTION("blank lines alone dispatch nothing") { CHECK(parse_whole("\n\n\r\n: c\n\n").empty()); }
    SECTION("CRLF, CR and LF line endings all work") {
        CHECK(parse_whole("data: a\r\ndata: a2\r\n\r\ndata: b\rdata: b2\r\rdata: c\n\n") ==
              std::vector<SseEvent>{ev("", "a\na2"), ev("", "b\nb2"), ev("", "c")});
    }
    SECTION("a leading BOM is skipped, a later one is data") {
        CHECK(parse_whole("\xEF\xBB\xBF"
                          "data: x\n\ndata: \xEF\xBB\xBFy\n\n") ==
              std::vector<SseEvent>{ev("", "x"), ev("", "\xEF\xBB\xBFy")});
    }
    SECTION("a partial BOM is content") {
        CHECK(parse_whole("\xEF\xBB"
                          "data: x\n\n")
                  .empty());
        CHECK(parse_in_pieces("\xEF"
                              "\n"
                              "data: x\n\n",
                              {1}) == std::vector<SseEvent>{ev("", "x")});
    }
    SECTION("an unterminated final event is not dispatched") {
        SseParser parser;
        CHECK(parser.feed("data: a\n\ndata: b\n").size() == 1);
    }
}

TEST_CASE("SseParser gives the same events however the stream is cut", "[worker_api]") {
    const std::string stream =
        "\xEF\xBB\xBF: hello\r\n"
        "event: log\r\n"
        "data: line one\r\n"
        "data:line two\r\n"
        "\r\n"
        "id: 42\n"
        "data: {\"msg\": \"caf\xC3\xA9\"}\n"
        "\n"
        "data: cr only\r\r"
        "event: error\n"
        "data: boom\n"
        "\n"
        "data: [DONE]\n\n";
    const auto expected = std::vector<SseEvent>{
        ev("log", "line one\nline two"),
        ev("", "{\"msg\": \"caf\xC3\xA9\"}", "42"),
        ev("", "cr only", "42"),
        ev("error", "boom", "42"),
        ev("", "[DONE]", "42"),
    };
    REQUIRE(parse_whole(stream) == expected);

    SECTION("one cut at every byte position") {
        for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
            INFO("cut at " << cut);
            CHECK(parse_in_pieces(stream, {cut}) == expected);
        }
    }
    SECTION("two cuts at every pair of positions") {
        for (std::size_t a = 0; a <= stream.size(); ++a)
            for (std::size_t b = a; b <= stream.size(); ++b) {
                INFO("cuts at " << a << ", " << b);
                REQUIRE(parse_in_pieces(stream, {a, b}) == expected);
            }
    }
    SECTION("one byte at a time") {
        std::vector<std::size_t> cuts;
        for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
        CHECK(parse_in_pieces(stream, cuts) == expected);
    }
    SECTION("empty chunks change nothing") {
        SseParser parser;
        std::vector<SseEvent> all;
        for (char c : stream) {
            CHECK(parser.feed("").empty());
            for (auto& e : parser.feed(std::string_view(&c, 1))) all.push_back(std::move(e));
        }
        CHECK(all == expected);
    }
}

TEST_CASE("SseParser bounds what a hostile stream can make it hold", "[worker_api]") {
    SseParser parser;
    const std::string big(SseParser::kMaxFieldBytes / 4, 'x');
    CHECK(parser.feed("data: ").empty());
    for (int i = 0; i < 8; ++i) CHECK(parser.feed(big).empty());
    auto events = parser.feed("\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data.size() <= SseParser::kMaxFieldBytes);
    CHECK(events[0].data.size() >= SseParser::kMaxFieldBytes - 16);
    // The parser is still usable afterwards.
    CHECK(parser.feed("data: ok\n\n") == std::vector<SseEvent>{ev("", "ok")});
}
