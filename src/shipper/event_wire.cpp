#include "shipper/event_wire.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/uuid.h"

namespace arcade::shipper {
namespace {

bool anonymous_event(const store::StoredEvent& row) { return row.kind == "event" && row.distinct_id == row.anon_id; }

}  // namespace

std::string encode_event(const store::StoredEvent& row) {
    rapidjson::Document props;
    props.Parse(row.properties.c_str(), row.properties.size());
    if (props.HasParseError() || !props.IsObject()) props.SetObject();
    auto& alloc = props.GetAllocator();
    props.RemoveMember("$process_person_profile");
    if (anonymous_event(row)) props.AddMember("$process_person_profile", false, alloc);

    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
    w.StartObject();
    w.Key("event");
    str(row.event);
    w.Key("distinct_id");
    str(row.distinct_id);
    w.Key("uuid");
    str(row.uuid);
    w.Key("timestamp");
    str(row.timestamp);
    w.Key("properties");
    props.Accept(w);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string rejection_reason(const store::StoredEvent& row, std::size_t encoded_size) {
    if (row.event.empty()) return "empty event name";
    if (row.distinct_id.find_first_not_of(" \t\r\n") == std::string::npos) return "empty distinct_id";
    if (!is_uuid(row.uuid)) return "invalid uuid";
    rapidjson::Document props;
    props.Parse(row.properties.c_str(), row.properties.size());
    if (props.HasParseError() || !props.IsObject()) return "properties are not a JSON object";
    if (encoded_size > kMaxEventBytes) return "event larger than 900 KiB";
    return "";
}

}  // namespace arcade::shipper
