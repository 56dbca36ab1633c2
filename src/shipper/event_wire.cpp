#include "shipper/event_wire.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "core/json_fields.h"
#include "core/uuid.h"

namespace arcade::shipper {
namespace {

bool anonymous_event(const store::StoredEvent& row) { return row.kind == "event" && row.distinct_id == row.anon_id; }

}  // namespace

namespace {

void append_json_string(std::string& out, const std::string& s) {
    // rapidjson's Writer escapes only '"', '\\' and bytes below 0x20 and copies
    // every other byte (no validation flag), so a string without those, which
    // is nearly every name, id, uuid and timestamp, is copied as is; the rest
    // go through the Writer for byte-identical output.
    auto plain = [](unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; };
    if (std::all_of(s.begin(), s.end(), plain)) {
        out += '"';
        out += s;
        out += '"';
        return;
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    out.append(buf.GetString(), buf.GetSize());
}

// The journal stores properties as a JSON object written by our own code, so
// the common case splices text instead of parsing and re-serialising every
// event (the drain's hot loop); anything unusual takes the careful path.
bool splice_properties(std::string& out, const std::string& props, bool anonymous) {
    if (props.size() < 2 || props.front() != '{' || props.back() != '}') return false;
    if (props.find("$process_person_profile") != std::string::npos) return false;
    if (!anonymous) {
        out += props;
        return true;
    }
    bool empty = props.find_first_not_of(" \t\r\n", 1) == props.size() - 1;
    out.append(props, 0, props.size() - 1);
    out += empty ? "\"$process_person_profile\":false}" : ",\"$process_person_profile\":false}";
    return true;
}

}  // namespace

std::string encode_event(const store::StoredEvent& row) {
    std::string out;
    out.reserve(row.properties.size() + row.event.size() + row.distinct_id.size() + 160);
    out += "{\"event\":";
    append_json_string(out, row.event);
    out += ",\"distinct_id\":";
    append_json_string(out, row.distinct_id);
    out += ",\"uuid\":";
    append_json_string(out, row.uuid);
    out += ",\"timestamp\":";
    append_json_string(out, row.timestamp);
    out += ",\"properties\":";
    if (splice_properties(out, row.properties, anonymous_event(row))) {
        out += '}';
        return out;
    }
    return encode_event_parsed(row);
}

std::string encode_event_parsed(const store::StoredEvent& row) {
    rapidjson::Document props;
    props.Parse<rapidjson::kParseIterativeFlag>(row.properties.c_str(), row.properties.size());
    if (props.HasParseError() || !props.IsObject()) props.SetObject();
    auto& alloc = props.GetAllocator();
    // Anonymous events are always personless; otherwise a caller's own value
    // (the compliance adapter passes properties through) is kept.
    if (anonymous_event(row)) {
        props.RemoveMember("$process_person_profile");
        props.AddMember("$process_person_profile", false, alloc);
    }

    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    JsonFields f(w);
    w.StartObject();
    f.str("event", row.event);
    f.str("distinct_id", row.distinct_id);
    f.str("uuid", row.uuid);
    f.str("timestamp", row.timestamp);
    w.Key("properties");
    props.Accept(w);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string rejection_reason(const store::StoredEvent& row, std::size_t encoded_size) {
    if (row.event.empty()) return "empty event name";
    if (row.distinct_id.find_first_not_of(" \t\r\n") == std::string::npos) return "empty distinct_id";
    if (!is_uuid(row.uuid)) return "invalid uuid";
    // Cheap shape check; the content was validated JSON when it was written.
    const auto& p = row.properties;
    auto first = p.find_first_not_of(" \t\r\n");
    auto last = p.find_last_not_of(" \t\r\n");
    if (first == std::string::npos || p[first] != '{' || p[last] != '}') return "properties are not a JSON object";
    if (encoded_size > kMaxEventBytes) return "event larger than 900 KiB";
    return "";
}

}  // namespace arcade::shipper
