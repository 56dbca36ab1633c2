#include "worker_api/worker_merge.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace arcade::worker_api {

namespace {

std::string normalized_endpoint(std::string_view url) {
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    std::string out(url);
    // Scheme and host are case-insensitive; the path is not.
    auto scheme_end = out.find("://");
    auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    auto host_end = out.find('/', host_start);
    if (host_end == std::string::npos) host_end = out.size();
    std::transform(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(host_end), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

// Server strings are not checked for UTF-8 validity when parsed; the JSON we
// print must be valid, so invalid sequences become U+FFFD.
std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok && len > 1) {
            // Reject overlong forms, surrogates and code points past U+10FFFF.
            auto c1 = static_cast<unsigned char>(s[i + 1]);
            if (len == 2) ok = c >= 0xC2;
            if (len == 3) ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
            if (len == 4) ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90) && c <= 0xF4;
        }
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

}  // namespace

bool same_endpoint(std::string_view a, std::string_view b) { return normalized_endpoint(a) == normalized_endpoint(b); }

std::vector<WorkerSummary> merge_workers(const std::vector<EngineWorker>& engine,
                                         const std::optional<std::vector<CloudWorker>>& cloud) {
    std::unordered_map<std::string_view, const CloudWorker*> deployed;
    if (cloud) {
        for (const auto& c : *cloud) deployed.emplace(c.name, &c);  // first one wins
    }

    std::vector<WorkerSummary> rows;
    std::unordered_set<std::string_view> seen;
    for (const auto& w : engine) {
        if (!seen.insert(w.id).second) continue;
        WorkerSummary row;
        row.id = w.id;
        row.engine_registered = true;
        row.enabled = w.enabled;
        row.type = w.type;
        row.managed = w.managed;
        row.engine_uri = w.uri();
        if (cloud) {
            auto it = deployed.find(w.id);
            row.cloud_deployed = it != deployed.end();
            if (it != deployed.end()) {
                row.cloud_endpoint = it->second->endpoint;
                row.endpoint_mismatch = !same_endpoint(row.engine_uri, row.cloud_endpoint);
            }
        }
        rows.push_back(std::move(row));
    }
    if (cloud) {
        for (const auto& c : *cloud) {
            if (!seen.insert(c.name).second) continue;
            WorkerSummary row;
            row.id = c.name;
            row.cloud_deployed = true;
            row.cloud_endpoint = c.endpoint;
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

std::string workers_to_json(const std::vector<WorkerSummary>& workers) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    auto string = [&](const std::string& s) {
        std::string text = valid_utf8(s);
        w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
    };
    auto string_or_null = [&](const std::string& s) {
        if (s.empty())
            w.Null();
        else
            string(s);
    };
    auto bool_or_null = [&](const std::optional<bool>& b) {
        if (b)
            w.Bool(*b);
        else
            w.Null();
    };
    w.StartArray();
    for (const auto& row : workers) {
        w.StartObject();
        w.Key("id");
        string(row.id);
        w.Key("cloud_deployed");
        bool_or_null(row.cloud_deployed);
        w.Key("engine_registered");
        w.Bool(row.engine_registered);
        w.Key("enabled");
        bool_or_null(row.enabled);
        w.Key("type");
        string_or_null(row.type);
        w.Key("managed");
        bool_or_null(row.managed);
        w.Key("engine_uri");
        string_or_null(row.engine_uri);
        w.Key("cloud_endpoint");
        string_or_null(row.cloud_endpoint);
        w.Key("endpoint_mismatch");
        w.Bool(row.endpoint_mismatch);
        w.Key("toolkits");
        if (row.toolkits) {
            w.StartArray();
            for (const auto& t : *row.toolkits) string(t);
            w.EndArray();
        } else {
            w.Null();
        }
        w.EndObject();
    }
    w.EndArray();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace arcade::worker_api
