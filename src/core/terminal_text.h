#pragma once
// Text from a server or a file made safe to print on a terminal (SPEC §7):
// nothing that a terminal obeys instead of showing (ESC and the other C0
// controls, DEL, and the C1 controls U+0080..U+009F that some terminals read
// as CSI and friends, also as raw bytes 0x80..0x9F outside well-formed UTF-8)
// reaches it. Pure functions; never throw.

#include <cstddef>
#include <string>
#include <string_view>

namespace arcade {

// The length in bytes of the terminal control that starts `text` (1 for a C0
// control, DEL or a byte that does not start well-formed UTF-8, 2 for a C1
// control in UTF-8), or 0 when it starts with printable text or is empty.
std::size_t terminal_control_length(std::string_view text);

// `text` for one line of output (a table cell, an id, an e-mail address):
// every control, newline and tab included, becomes `?`.
std::string terminal_safe(std::string_view text);

// `text` for output that may span lines (a log stream): as terminal_safe,
// but newline and tab are kept.
std::string terminal_safe_lines(std::string_view text);

// `json`, the output of a JSON writer (which escapes the C0 controls inside
// strings itself), with what it leaves raw escaped inside its strings: DEL
// and the C1 controls become \u007f and \u0080..\u009f, a byte that does
// not start well-formed UTF-8 becomes \ufffd. The result is valid JSON with
// the same meaning (but for ill-formed bytes, which JSON cannot carry) and
// safe to print; the writer's own newlines and indentation are kept.
std::string json_terminal_safe(std::string_view json);

}  // namespace arcade
