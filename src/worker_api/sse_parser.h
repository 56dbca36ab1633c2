#pragma once
// An incremental parser for server-sent events (text/event-stream), fed
// arbitrary chunks as they arrive. Pure: no I/O, no clock, no exceptions
// beyond std::bad_alloc; safe to fuzz.
//
// Wire format (WHATWG HTML, "Server-sent events", §9.2.5-6):
//   - lines end in "\r\n", "\n" or "\r" (a "\r\n" may be split across chunks);
//   - a UTF-8 BOM at the very start of the stream is ignored;
//   - "field: value" (one leading space of the value dropped), "field" alone
//     means an empty value, lines starting with ':' are comments;
//   - `event` sets the event type, `data` appends a line to the data, `id`
//     sets the last event id (ignored when it contains NUL), `retry` and
//     unknown fields are ignored;
//   - a blank line dispatches the event being built.
// One deliberate difference from the standard: an event that has an `event`
// field but no `data` is still dispatched (with has_data false), so that a
// bare `event: error` is not lost. An unterminated final event is discarded,
// as the standard says.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace arcade::worker_api {

struct SseEvent {
    std::string type;  // the `event` field; empty means the default "message"
    std::string data;  // `data` lines joined with '\n'
    std::string id;    // the last event id seen so far in the stream
    bool has_data = false;

    bool operator==(const SseEvent&) const = default;
};

class SseParser {
public:
    // Lines and event data longer than this are truncated, so a hostile
    // stream cannot grow memory without bound.
    static constexpr std::size_t kMaxFieldBytes = 1 << 20;

    // Consumes `chunk` and returns the events it completed, in stream order.
    std::vector<SseEvent> feed(std::string_view chunk);

private:
    void take_line(std::vector<SseEvent>& out);
    void dispatch(std::vector<SseEvent>& out);

    std::string line_;
    std::string type_;
    std::string data_;
    std::string last_id_;
    bool has_data_ = false;
    bool has_type_ = false;
    bool after_cr_ = false;  // the previous chunk ended in '\r'
    std::size_t bom_seen_ = 0;
    bool started_ = false;  // past the optional BOM
};

}  // namespace arcade::worker_api
