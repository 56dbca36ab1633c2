// core/terminal_text: what may reach a terminal from a server or a file.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <string>

#include "core/terminal_text.h"

TEST_CASE("terminal_safe and terminal_safe_lines replace every terminal control", "[core]") {
    auto [in, line, lines] = GENERATE(table<std::string, std::string, std::string>({
        {"a@b.c", "a@b.c", "a@b.c"},
        {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
        {"evil\x1b]0;title\x07", "evil?]0;title?", "evil?]0;title?"},
        {"a\r\nb\tc", "a??b?c", "a?\nb\tc"},
        {"del\x7f", "del?", "del?"},
        {"csi\xc2\x9b" "31m", "csi?31m", "csi?31m"},
        {"c1 \xc2\x80 \xc2\x9f", "c1 ? ?", "c1 ? ?"},
        {"latin \xc2\xa0 nbsp", "latin \xc2\xa0 nbsp", "latin \xc2\xa0 nbsp"},
        {"cut \xc2", "cut ?", "cut ?"},
        // Issue 13, finding 10: C1 controls as raw 8-bit bytes, and bytes
        // that are not UTF-8 at all.
        {"raw \x9b" "31m \x85", "raw ?31m ?", "raw ?31m ?"},
        {"bad \xff\xfe \xe2\x9c", "bad ?? ??", "bad ?? ??"},
        {std::string("nul\0x", 5), "nul?x", "nul?x"},
    }));
    CHECK(arcade::terminal_safe(in) == line);
    CHECK(arcade::terminal_safe_lines(in) == lines);
}

TEST_CASE("terminal_control_length measures the control at the start", "[core]") {
    CHECK(arcade::terminal_control_length("") == 0);
    CHECK(arcade::terminal_control_length("x\x1b") == 0);
    CHECK(arcade::terminal_control_length("\x1b[") == 1);
    CHECK(arcade::terminal_control_length("\n") == 1);
    CHECK(arcade::terminal_control_length("\xc2\x9b") == 2);
    CHECK(arcade::terminal_control_length("\xc2\xa0") == 0);
    CHECK(arcade::terminal_control_length("\x9b") == 1);
    CHECK(arcade::terminal_control_length("\xe2\x9c\x93") == 0);
}

TEST_CASE("json_terminal_safe escapes DEL, C1 and ill-formed bytes inside strings and keeps the JSON's meaning",
          "[core]") {
    using arcade::json_terminal_safe;
    // What a JSON writer leaves raw: DEL, the C1 CSI in UTF-8, a raw 0x9B byte.
    const std::string written = "{\n  \"a\": \"x\x7fy\xc2\x9b" "31m\x9b\",\n  \"b\": \"caf\xc3\xa9 \\u001b\"\n}";
    const std::string safe = json_terminal_safe(written);
    CHECK(safe == "{\n  \"a\": \"x\\u007fy\\u009b31m\\ufffd\",\n  \"b\": \"caf\xc3\xa9 \\u001b\"\n}");
    rapidjson::Document d;
    d.Parse(safe.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["a"].GetString()) == "x\x7fy\xc2\x9b" "31m\xef\xbf\xbd");
    CHECK(std::string(d["b"].GetString()) == "caf\xc3\xa9 \x1b");
    for (std::size_t i = 0; i < safe.size(); ++i) {
        if ((static_cast<unsigned char>(safe[i]) & 0xC0) == 0x80) continue;  // inside a character
        INFO(i);
        CHECK(arcade::terminal_control_length(std::string_view(safe).substr(i)) == (safe[i] == '\n' ? 1u : 0u));
    }
    CHECK(json_terminal_safe("[\"plain\", 1, null]") == "[\"plain\", 1, null]");
}
