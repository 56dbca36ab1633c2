#include "worker_api/api_error.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/terminal_text.h"
#include "http/status.h"

namespace arcade::worker_api {

namespace {

// Server-supplied text goes to a terminal and into telemetry: keep it on one
// line, free of terminal controls (C1 included), and short.
std::string one_line(std::string_view text, std::size_t max_chars = 300) {
    std::string out;
    out.reserve(std::min(text.size(), max_chars));
    bool pending_space = false;
    while (!text.empty()) {
        const auto c = static_cast<unsigned char>(text.front());
        if (std::size_t control = terminal_control_length(text); control > 0 || c == ' ') {
            pending_space = !out.empty();
            text.remove_prefix(std::max<std::size_t>(control, 1));
            continue;
        }
        text.remove_prefix(1);
        if (pending_space) {
            out.push_back(' ');
            pending_space = false;
        }
        out.push_back(static_cast<char>(c));
        if (out.size() >= max_chars) {
            // Do not cut a UTF-8 sequence in half.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
            if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
            out += "...";
            break;
        }
    }
    return out;
}

}  // namespace

std::string ApiError::describe() const {
    std::string where = fmt::format("{} {}", method, url);
    std::string detail = one_line(message);
    switch (kind) {
        case ErrorKind::status: {
            std::string head = fmt::format("{} returned {}", service, status);
            if (auto reason = http::reason_phrase(status); !reason.empty()) head += fmt::format(" {}", reason);
            if (!detail.empty()) head += ": " + detail;
            return fmt::format("{} ({})", head, where);
        }
        case ErrorKind::connect:
            return fmt::format("could not connect to {} at {}{}", service, url,
                               detail.empty() ? "" : fmt::format(" ({})", detail));
        case ErrorKind::timeout:
            return fmt::format("{} did not answer in time ({}{})", service, where,
                               detail.empty() ? "" : ": " + detail);
        case ErrorKind::connection_lost:
            return fmt::format("the connection to {} was lost ({}{})", service, where,
                               detail.empty() ? "" : ": " + detail);
        case ErrorKind::cancelled: return "interrupted";
        case ErrorKind::bad_response:
            return fmt::format("unexpected response from {} ({}): {}", service, where, detail);
        case ErrorKind::transport:
            return fmt::format("request to {} failed ({}{})", service, where, detail.empty() ? "" : ": " + detail);
    }
    return detail;
}

}  // namespace arcade::worker_api
