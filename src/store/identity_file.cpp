#include "store/identity_file.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/files.h"
#include "core/utf8.h"

namespace arcade::store {
namespace {

constexpr std::size_t kMaxIdLength = 200;  // PostHog truncates distinct ids here

}  // namespace

bool is_usable_distinct_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxIdLength && is_valid_utf8(id) && !is_refused_distinct_id(id);
}

bool is_refused_distinct_id(std::string_view raw) {
    std::string_view id = raw;
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.front()))) id.remove_prefix(1);
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.remove_suffix(1);
    if (id.size() >= 2 && (id.front() == '"' || id.front() == '\'') && id.back() == id.front())
        id = id.substr(1, id.size() - 2);
    if (id.empty()) return true;
    static constexpr std::array<std::string_view, 11> case_insensitive = {
        "anonymous", "guest", "distinctid", "distinct_id", "id", "not_authenticated",
        "email", "undefined", "true", "false", ""};
    std::string lower(id);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (auto word : case_insensitive)
        if (!word.empty() && lower == word) return true;
    static constexpr std::array<std::string_view, 6> exact = {"[object Object]", "NaN", "None", "none", "null", "0"};
    return std::find(exact.begin(), exact.end(), id) != exact.end();
}

std::optional<Identity> parse_identity_json(std::string_view text) {
    rapidjson::Document doc;
    // Iterative: a hostile file of nested brackets must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    auto anon = doc.FindMember("anon_id");
    if (anon == doc.MemberEnd() || !anon->value.IsString()) return std::nullopt;
    Identity id;
    id.anon_id.assign(anon->value.GetString(), anon->value.GetStringLength());
    if (!is_usable_distinct_id(id.anon_id)) return std::nullopt;
    auto linked = doc.FindMember("linked_principal_id");
    if (linked == doc.MemberEnd()) return std::nullopt;
    if (linked->value.IsString()) {
        std::string principal(linked->value.GetString(), linked->value.GetStringLength());
        if (!is_usable_distinct_id(principal)) return std::nullopt;
        id.principal_id = std::move(principal);
    } else if (!linked->value.IsNull()) {
        return std::nullopt;
    }
    return id;
}

std::string format_identity_json(const Identity& id) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>> w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("anon_id");
    w.String(id.anon_id.c_str(), static_cast<rapidjson::SizeType>(id.anon_id.size()));
    w.Key("linked_principal_id");
    if (id.principal_id)
        w.String(id.principal_id->c_str(), static_cast<rapidjson::SizeType>(id.principal_id->size()));
    else
        w.Null();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::optional<Identity> read_identity_file(const std::filesystem::path& path) {
    auto read = read_file_nofollow(path, 64 * 1024);
    if (read.status != ReadStatus::ok) return std::nullopt;
    return parse_identity_json(read.data);
}

}  // namespace arcade::store
