#include "core/terminal_text.h"

namespace arcade {

namespace {

std::string replace_controls(std::string_view text, bool keep_line_breaks) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const std::size_t control = terminal_control_length(text);
        if (control == 0 || (keep_line_breaks && (text.front() == '\n' || text.front() == '\t'))) {
            out += text.front();
            text.remove_prefix(1);
        } else {
            out += '?';
            text.remove_prefix(control);
        }
    }
    return out;
}

}  // namespace

std::size_t terminal_control_length(std::string_view text) {
    if (text.empty()) return 0;
    const auto c = static_cast<unsigned char>(text[0]);
    if (c < 0x20 || c == 0x7F) return 1;
    if (c == 0xC2 && text.size() > 1) {
        const auto next = static_cast<unsigned char>(text[1]);
        if (next >= 0x80 && next <= 0x9F) return 2;
    }
    return 0;
}

std::string terminal_safe(std::string_view text) { return replace_controls(text, false); }

std::string terminal_safe_lines(std::string_view text) { return replace_controls(text, true); }

}  // namespace arcade
