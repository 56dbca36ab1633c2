#include "core/uuid.h"

#include <sys/random.h>

#include <array>
#include <cctype>
#include <random>

namespace arcade {
namespace {

void random_bytes(unsigned char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    if (got < n) {  // getrandom unavailable: fall back to the C++ engine
        std::random_device rd;
        for (; got < n; ++got) out[got] = static_cast<unsigned char>(rd());
    }
}

std::string format(const std::array<unsigned char, 16>& b) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[b[i] >> 4]);
        out.push_back(hex[b[i] & 0xf]);
    }
    return out;
}

}  // namespace

std::string uuid_v7(std::int64_t unix_ms) {
    std::array<unsigned char, 16> b{};
    random_bytes(b.data() + 6, 10);
    auto ms = static_cast<std::uint64_t>(unix_ms);
    for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0f));
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
    return format(b);
}

std::string uuid_v4() {
    std::array<unsigned char, 16> b{};
    random_bytes(b.data(), 16);
    b[6] = static_cast<unsigned char>(0x40 | (b[6] & 0x0f));
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
    return format(b);
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

}  // namespace arcade
