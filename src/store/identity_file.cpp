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

namespace {

// A JSON value as the Python CLI's str() of it would read for an id: a
// string as is, an integer as its decimal text; nullopt for anything else
// (a fraction, a boolean, an object: no usable id).
std::optional<std::string> id_text(const rapidjson::Value& v) {
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    if (v.IsUint64()) return std::to_string(v.GetUint64());
    return std::nullopt;
}

}  // namespace

std::optional<Identity> parse_identity_json(std::string_view text) {
    rapidjson::Document doc;
    // Iterative: a hostile file of nested brackets must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    auto anon = doc.FindMember("anon_id");
    if (anon == doc.MemberEnd()) return std::nullopt;
    auto anon_text = id_text(anon->value);
    if (!anon_text || !is_usable_distinct_id(*anon_text)) return std::nullopt;
    Identity id;
    id.anon_id = std::move(*anon_text);
    // As lenient as the Python CLI: a missing, null or unusable
    // `linked_principal_id` means not linked (Python treats a falsy one so).
    auto linked = doc.FindMember("linked_principal_id");
    if (linked != doc.MemberEnd())
        if (auto principal = id_text(linked->value); principal && is_usable_distinct_id(*principal))
            id.principal_id = std::move(*principal);
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
