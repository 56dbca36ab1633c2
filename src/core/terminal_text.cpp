#include "core/terminal_text.h"

#include <algorithm>
#include <cstdio>

#include "core/utf8.h"

namespace arcade {

namespace {

// The length of the UTF-8 sequence that a lead byte `c` starts.
std::size_t sequence_length(unsigned char c) { return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

// `text` with each printable character copied whole (a well-formed sequence)
// and each terminal control handed to `write_control(control, out)`, which
// appends what stands for it.
template <typename WriteControl>
std::string replace_controls(std::string_view text, WriteControl write_control) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        std::size_t length = terminal_control_length(text);
        if (length == 0) {
            length = std::min(sequence_length(static_cast<unsigned char>(text.front())), text.size());
            out.append(text.substr(0, length));
        } else {
            write_control(text.substr(0, length), out);
        }
        text.remove_prefix(length);
    }
    return out;
}

}  // namespace

std::size_t terminal_control_length(std::string_view text) {
    if (text.empty()) return 0;
    const auto c = static_cast<unsigned char>(text[0]);
    if (c < 0x20 || c == 0x7F) return 1;
    if (c < 0x80) return 0;
    if (c == 0xC2 && text.size() > 1) {
        const auto next = static_cast<unsigned char>(text[1]);
        if (next >= 0x80 && next <= 0x9F) return 2;
    }
    // A byte that does not start a well-formed sequence: a raw 0x80..0x9F is
    // a C1 control to a terminal in 8-bit mode (0x9B is CSI).
    const std::size_t length = sequence_length(c);
    if (length > text.size() || !is_valid_utf8(text.substr(0, length))) return 1;
    return 0;
}

std::string terminal_safe(std::string_view text) {
    return replace_controls(text, [](std::string_view, std::string& out) { out += '?'; });
}

std::string terminal_safe_lines(std::string_view text) {
    return replace_controls(text, [](std::string_view control, std::string& out) {
        out += control == "\n" || control == "\t" ? control.front() : '?';
    });
}

std::string json_terminal_safe(std::string_view json) {
    return replace_controls(json, [](std::string_view control, std::string& out) {
        const auto c = static_cast<unsigned char>(control.front());
        if (c < 0x20) {
            // The writer's own newline (C0 inside strings is escaped by the
            // writer): as it is.
            out += control.front();
            return;
        }
        unsigned code = 0xFFFD;
        if (c == 0x7F) code = 0x7F;
        else if (control.size() == 2) code = static_cast<unsigned char>(control[1]);  // U+0080..U+009F from C2 80..9F
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", code);
        out += escape;
    });
}

}  // namespace arcade
