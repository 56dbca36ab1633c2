// The test tree's gzip decoder: what it decodes, and how it names each way a
// body can fail to be one gzip member.
#include "support/gzip_body.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using arcade::testing::gunzip;
using arcade::testing::GzipProblem;
using arcade::testing::has_gzip_magic;

namespace {

std::string gzip(const std::string& text) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::string out(deflateBound(&zs, text.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

}  // namespace

TEST_CASE("gunzip decodes one gzip member and names what is wrong with anything else", "[support]") {
    const std::string text = R"({"api_key":"phc_test","batch":[{"event":"e"}]})";
    const std::string body = gzip(text);
    struct Row {
        const char* what;
        std::string in;
        std::size_t limit;
        GzipProblem problem;
    };
    auto row = GENERATE_COPY(values<Row>({
        {"a gzip member", body, 1 << 20, GzipProblem::none},
        {"plain JSON", text, 1 << 20, GzipProblem::invalid},
        {"nothing", "", 1 << 20, GzipProblem::invalid},
        {"a member cut short", body.substr(0, body.size() - 6), 1 << 20, GzipProblem::truncated},
        {"bytes after the member", body + "xyz", 1 << 20, GzipProblem::trailing_data},
        {"more than the limit", body, text.size() - 1, GzipProblem::too_large},
    }));
    INFO(row.what);
    auto out = gunzip(row.in, row.limit);
    CHECK(out.problem == row.problem);
    CHECK(out.ok() == (row.problem == GzipProblem::none));
    if (out.ok()) CHECK(out.text == text);
}

TEST_CASE("the gzip magic bytes are 1f 8b", "[support]") {
    CHECK(has_gzip_magic(gzip("x")));
    CHECK(has_gzip_magic("\x1f\x8b"));
    CHECK_FALSE(has_gzip_magic("\x1f"));
    CHECK_FALSE(has_gzip_magic("{}"));
}
