#include "shipper/identity_link.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <optional>

#include "core/build_info.h"
#include "core/json_fields.h"
#include "store/identity_file.h"

namespace arcade::shipper {

namespace {

// The first usable id among `keys` in the object `data`.
std::optional<std::string> principal_in(const rapidjson::Value& data, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        auto pid = data.FindMember(key);
        if (pid != data.MemberEnd() && pid->value.IsString() &&
            store::is_usable_distinct_id({pid->value.GetString(), pid->value.GetStringLength()}))
            return std::string(pid->value.GetString(), pid->value.GetStringLength());
    }
    return std::nullopt;
}

}  // namespace

PrincipalLookup lookup_principal(http::Transport& transport, const std::string& cloud_url, const Credentials& creds,
                                 std::chrono::milliseconds timeout) {
    PrincipalLookup out;
    http::Request req;
    const bool oauth = creds.is_oauth();
    if (oauth) {
        const std::string& base = creds.oauth->coordinator_url.empty() ? cloud_url : creds.oauth->coordinator_url;
        req.url = base + "/api/v1/auth/whoami";
    } else {
        req.url = cloud_url + "/api/v1/auth/validate";
    }
    req.headers = {{"Authorization", "Bearer " + creds.secret()}, {"Accept", "application/json"}};
    req.timeout = timeout;
    req.connect_timeout = timeout;
    auto resp = transport.send(req);
    if (resp.status == 401 || resp.status == 403) {
        out.outcome = PrincipalLookup::Outcome::unauthorized;
        out.detail = std::string("Arcade Cloud rejected the ") + (oauth ? "access token" : "API key") + " (" +
                     std::to_string(resp.status) + ")";
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
            auto pid = oauth ? principal_in(data->value, {"account_id", "principal_id"})
                             : principal_in(data->value, {"principal_id"});
            if (pid) {
                out.outcome = PrincipalLookup::Outcome::found;
                out.principal_id = std::move(*pid);
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
    f.boolean("$geoip_disable", true);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace arcade::shipper
