#include "support/gzip_body.h"

#include <zlib.h>

#include <memory>

namespace arcade::testing {

bool has_gzip_magic(std::string_view body) {
    return body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
           static_cast<unsigned char>(body[1]) == 0x8b;
}

Gunzipped gunzip(std::string_view in, std::size_t limit) {
    Gunzipped out;
    z_stream stream{};
    // 16 + MAX_WBITS: the gzip wrapper only.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        out.problem = GzipProblem::invalid;
        return out;
    }
    const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream.avail_in = static_cast<uInt>(in.size());
    char chunk[64 * 1024];
    for (int rc = Z_OK; rc != Z_STREAM_END;) {
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            out.problem = GzipProblem::invalid;
            return out;
        }
        out.text.append(chunk, sizeof chunk - stream.avail_out);
        if (out.text.size() > limit) {
            out.problem = GzipProblem::too_large;
            return out;
        }
        if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            out.problem = GzipProblem::truncated;
            return out;
        }
    }
    if (stream.avail_in != 0) out.problem = GzipProblem::trailing_data;
    return out;
}

}  // namespace arcade::testing
