// core/url_codec: percent-encoding and query strings (the login callback's
// query, values in the login URL, ids in request paths).
#include <catch2/catch.hpp>

#include <string>

#include "core/url_codec.h"

using arcade::parse_query;
using arcade::percent_decode;
using arcade::percent_encode;

TEST_CASE("percent_decode decodes escapes and plus signs, keeping malformed escapes", "[core]") {
    auto [in, want] = GENERATE(table<std::string, std::string>({
        {"plain", "plain"},
        {"a%40b.c", "a@b.c"},
        {"%2B%2b", "++"},
        {"two+words", "two words"},
        {"%zz", "%zz"},
        {"100%", "100%"},
        {"%4", "%4"},
        {"%e2%82%ac", "\xe2\x82\xac"},
        {"%00x", std::string("\0x", 2)},
        {"", ""},
    }));
    CHECK(percent_decode(in) == want);
}

TEST_CASE("percent_encode keeps unreserved characters and round-trips through decode", "[core]") {
    CHECK(percent_encode("http://localhost:9905/callback") == "http%3A%2F%2Flocalhost%3A9905%2Fcallback");
    CHECK(percent_encode("aZ09-._~") == "aZ09-._~");
    CHECK(percent_encode("a b+c&d=e") == "a%20b%2Bc%26d%3De");
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    CHECK(percent_decode(percent_encode(all)) == all);
}

TEST_CASE("parse_query splits, decodes and keeps the first of repeated keys", "[core]") {
    auto q = parse_query("state=s%3D1&api_key=k+1&&email=a%40b.c&flag&state=second");
    CHECK(q.size() == 4);
    CHECK(q["state"] == "s=1");
    CHECK(q["api_key"] == "k 1");
    CHECK(q["email"] == "a@b.c");
    CHECK(q["flag"].empty());
    CHECK(parse_query("").empty());
    CHECK(parse_query("&&&").empty());
    CHECK(parse_query("%73tate=x").at("state") == "x");
}

TEST_CASE("percent_encode keeps an id inside the path segment it is placed in", "[core]") {
    CHECK(percent_encode("../admin") == "..%2Fadmin");
    CHECK(percent_encode("a?b#c") == "a%3Fb%23c");
    CHECK(percent_encode("w\xc3\xa9") == "w%C3%A9");
}
