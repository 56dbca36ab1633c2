#pragma once
// The one gzip decoder of the test tree and tools: what the shipper sends to
// PostHog is a gzip member (Content-Encoding: gzip), and the sink, the drain
// tests' in-memory transport and the compliance adapter all read it back.

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace arcade::testing {

enum class GzipProblem {
    none,
    invalid,        // not a gzip stream, or a corrupt one
    truncated,      // the stream stops before its end
    trailing_data,  // bytes after the end of the member
    too_large,      // decodes to more than the limit
};

struct Gunzipped {
    std::string text;  // what was decoded (partial unless problem is none)
    GzipProblem problem = GzipProblem::none;
    bool ok() const { return problem == GzipProblem::none; }
};

// Whether `body` starts with the gzip magic bytes 1f 8b.
bool has_gzip_magic(std::string_view body);

// Inflates exactly one gzip member (no zlib or raw deflate) decoding to at
// most `limit` bytes. Never throws but std::bad_alloc.
Gunzipped gunzip(std::string_view in, std::size_t limit = std::numeric_limits<std::size_t>::max());

}  // namespace arcade::testing
