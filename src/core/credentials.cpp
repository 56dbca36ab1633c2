#include "core/credentials.h"

#include <yaml-cpp/yaml.h>

#include "core/files.h"
#include "core/utf8.h"

namespace arcade {

bool usable_credential_text(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return false;
    return is_valid_utf8(text);
}

std::optional<Credentials> load_credentials(const std::filesystem::path& path) {
    auto read = read_file_nofollow(path, 1 << 20);
    if (read.status != ReadStatus::ok) return std::nullopt;
    try {
        YAML::Node root = YAML::Load(read.data);
        if (!root.IsMap()) return std::nullopt;
        YAML::Node cloud = root["cloud"];
        if (!cloud.IsMap()) return std::nullopt;
        YAML::Node api = cloud["api"];
        if (!api.IsMap() || !api["key"].IsScalar()) return std::nullopt;
        Credentials creds;
        creds.api_key = api["key"].as<std::string>();
        YAML::Node user = cloud["user"];
        if (user.IsMap() && user["email"].IsScalar()) creds.email = user["email"].as<std::string>();
        if (creds.api_key.empty() || !usable_credential_text(creds.api_key) || !usable_credential_text(creds.email))
            return std::nullopt;
        return creds;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool save_credentials(const std::filesystem::path& path, const Credentials& creds) {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "cloud" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "api" << YAML::Value << YAML::BeginMap << YAML::Key << "key" << YAML::Value << creds.api_key
        << YAML::EndMap;
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap << YAML::Key << "email" << YAML::Value
        << creds.email << YAML::EndMap;
    out << YAML::EndMap << YAML::EndMap;
    std::string text = std::string(out.c_str()) + "\n";
    return write_file_atomic(path, text, 0600);
}

}  // namespace arcade
