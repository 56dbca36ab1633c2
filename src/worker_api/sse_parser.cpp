#include "worker_api/sse_parser.h"

namespace arcade::worker_api {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

void append_capped(std::string& to, std::string_view what) {
    if (to.size() >= SseParser::kMaxFieldBytes) return;
    to.append(what.substr(0, SseParser::kMaxFieldBytes - to.size()));
}

}  // namespace

std::vector<SseEvent> SseParser::feed(std::string_view chunk) {
    std::vector<SseEvent> out;

    if (!started_) {
        while (!chunk.empty() && bom_seen_ < kBom.size() && chunk.front() == kBom[bom_seen_]) {
            ++bom_seen_;
            chunk.remove_prefix(1);
        }
        if (bom_seen_ == kBom.size()) {
            started_ = true;
        } else if (!chunk.empty()) {
            // Not a BOM after all: the bytes matched so far are content.
            started_ = true;
            std::string replay(kBom.substr(0, bom_seen_));
            replay.append(chunk);
            bom_seen_ = 0;
            auto events = feed(replay);
            return events;
        } else {
            return out;
        }
    }

    while (!chunk.empty()) {
        if (after_cr_) {
            after_cr_ = false;
            if (chunk.front() == '\n') {
                chunk.remove_prefix(1);
                continue;
            }
        }
        auto end = chunk.find_first_of("\r\n");
        if (end == std::string_view::npos) {
            append_capped(line_, chunk);
            break;
        }
        append_capped(line_, chunk.substr(0, end));
        after_cr_ = chunk[end] == '\r';
        chunk.remove_prefix(end + 1);
        take_line(out);
    }
    return out;
}

void SseParser::take_line(std::vector<SseEvent>& out) {
    std::string line;
    line.swap(line_);
    if (line.empty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':') return;

    std::string_view field(line);
    std::string_view value;
    if (auto colon = field.find(':'); colon != std::string_view::npos) {
        value = field.substr(colon + 1);
        field = field.substr(0, colon);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }

    if (field == "event") {
        type_.assign(value);
        has_type_ = true;
    } else if (field == "data") {
        append_capped(data_, value);
        append_capped(data_, "\n");
        has_data_ = true;
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    }
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
    if (has_data_ || has_type_) {
        SseEvent event;
        event.type = std::move(type_);
        event.data = std::move(data_);
        if (!event.data.empty() && event.data.back() == '\n') event.data.pop_back();
        event.id = last_id_;
        event.has_data = has_data_;
        out.push_back(std::move(event));
    }
    type_.clear();
    data_.clear();
    has_data_ = false;
    has_type_ = false;
}

}  // namespace arcade::worker_api
