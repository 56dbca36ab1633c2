#include "shipper/identity_link.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/build_info.h"
#include "core/json_fields.h"
#include "store/identity_file.h"

namespace arcade::shipper {

PrincipalLookup lookup_principal(http::Transport& transport, const std::string& cloud_url, const std::string& api_key,
                                 std::chrono::milliseconds timeout) {
    PrincipalLookup out;
    http::Request req;
    req.url = cloud_url + "/api/v1/auth/validate";
    req.headers = {{"Authorization", "Bearer " + api_key}, {"Accept", "application/json"}};
    req.timeout = timeout;
    req.connect_timeout = timeout;
    auto resp = transport.send(req);
    if (resp.status == 401 || resp.status == 403) {
        out.outcome = PrincipalLookup::Outcome::unauthorized;
        out.detail = "Arcade Cloud rejected the API key (" + std::to_string(resp.status) + ")";
        return out;
    }
    if (!resp.ok()) {
        out.detail = resp.transport_failed() ? "Arcade Cloud unreachable: " + resp.error
                                             : "Arcade Cloud answered " + std::to_string(resp.status);
        return out;
    }
    rapidjson::Document doc;
    // Iterative: a hostile server's nested brackets must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(resp.body.c_str(), resp.body.size());
    if (!doc.HasParseError() && doc.IsObject()) {
        auto data = doc.FindMember("data");
        if (data != doc.MemberEnd() && data->value.IsObject()) {
            auto pid = data->value.FindMember("principal_id");
            if (pid != data->value.MemberEnd() && pid->value.IsString() &&
                store::is_usable_distinct_id({pid->value.GetString(), pid->value.GetStringLength()})) {
                out.outcome = PrincipalLookup::Outcome::found;
                out.principal_id.assign(pid->value.GetString(), pid->value.GetStringLength());
                return out;
            }
        }
    }
    out.detail = "Arcade Cloud answered without a principal id";
    return out;
}

std::string alias_properties(const std::string& anon_id, const std::string& principal_id) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    JsonFields f(w);
    w.StartObject();
    f.str("alias", anon_id);
    f.str("distinct_id", principal_id);
    f.str("$lib", build::kLibName);
    f.str("$lib_version", build::kVersion);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace arcade::shipper
