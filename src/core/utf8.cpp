#include "core/utf8.h"

#include <array>
#include <cstdint>

namespace arcade {
namespace {

// Length of the well-formed sequence at `i`, or 0.
std::size_t sequence_length(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    if (len == 1) return 1;
    std::uint32_t cp = c & (0x7f >> len);
    for (std::size_t k = 1; k < len; ++k) {
        auto d = static_cast<unsigned char>(s[i + k]);
        if ((d >> 6) != 0x2) return 0;
        cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::array<std::uint32_t, 5> min = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = sequence_length(s, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = sequence_length(s, i);
        auto c = static_cast<unsigned char>(s[i]);
        if (len == 0 || (len == 1 && c < 0x20 && c != '\n' && c != '\t')) {
            out.append("\xef\xbf\xbd");
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

}  // namespace arcade
