#include "core/credentials.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <regex>

#include "core/files.h"
#include "core/utf8.h"

namespace arcade {

std::vector<std::string> Credentials::secret_values() const {
    std::vector<std::string> out;
    auto add = [&](const std::string& s) {
        if (!s.empty()) out.push_back(s);
    };
    add(api_key);
    if (oauth) {
        add(oauth->access_token);
        add(oauth->refresh_token);
    }
    return out;
}

std::string Credentials::account_identity() const {
    // A file without coordinator_url means the default Coordinator, which a
    // token refresh writes into it (as the Python CLI does): the same account.
    if (oauth)
        return "oauth\n" + (oauth->coordinator_url.empty() ? std::string(kDefaultCoordinatorUrl) : oauth->coordinator_url) +
               "\n" + email;
    return "key\n" + api_key;
}

bool usable_credential_text(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return false;
    return is_valid_utf8(text);
}

namespace {

// A scalar field of `node`, or "" when it is absent; nullopt when it is there
// but not a usable scalar (a map, a list, control characters).
std::optional<std::string> text_field(const YAML::Node& node, const char* key) {
    YAML::Node v = node[key];
    if (!v.IsDefined() || v.IsNull()) return std::string();
    if (!v.IsScalar()) return std::nullopt;
    auto s = v.as<std::string>();
    if (!usable_credential_text(s)) return std::nullopt;
    return s;
}

std::optional<OAuthLogin> read_oauth(const YAML::Node& cloud) {
    YAML::Node auth = cloud["auth"];
    if (!auth.IsMap()) return std::nullopt;
    OAuthLogin o;
    auto access = text_field(auth, "access_token");
    auto refresh = text_field(auth, "refresh_token");
    auto expires = text_field(auth, "expires_at");
    auto url = text_field(cloud, "coordinator_url");
    if (!access || !refresh || !expires || !url || access->empty() || expires->empty()) return std::nullopt;
    o.access_token = *access;
    o.refresh_token = *refresh;
    o.expires_at = *expires;
    o.coordinator_url = *url;
    YAML::Node ctx = cloud["context"];
    if (ctx.IsDefined() && ctx.IsMap()) {  // a missing key gives an invalid node, whose type throws
        LoginContext c;
        auto org = text_field(ctx, "org_id"), org_name = text_field(ctx, "org_name");
        auto project = text_field(ctx, "project_id"), project_name = text_field(ctx, "project_name");
        if (org && org_name && project && project_name) o.context = LoginContext{*org, *org_name, *project, *project_name};
    }
    return o;
}

}  // namespace

std::optional<Credentials> load_credentials(const std::filesystem::path& path) {
    auto read = read_file_nofollow(path, 1 << 20);
    if (read.status != ReadStatus::ok) return std::nullopt;
    try {
        YAML::Node root = YAML::Load(read.data);
        if (!root.IsMap()) return std::nullopt;
        YAML::Node cloud = root["cloud"];
        if (!cloud.IsMap()) return std::nullopt;
        Credentials creds;
        YAML::Node user = cloud["user"];
        if (user.IsMap()) {
            auto email = text_field(user, "email");
            if (!email) return std::nullopt;
            creds.email = *email;
        }
        if (cloud["auth"].IsDefined()) {
            creds.oauth = read_oauth(cloud);
            if (!creds.oauth) return std::nullopt;
            return creds;
        }
        YAML::Node api = cloud["api"];
        if (!api.IsMap()) return std::nullopt;
        auto key = text_field(api, "key");
        if (!key || key->empty()) return std::nullopt;
        creds.api_key = *key;
        return creds;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

namespace {

// A string as PyYAML's yaml.dump (default options) writes it in block
// context: plain when it reads back as the same string, else single-quoted,
// else (non-ASCII or control characters: allow_unicode is off) double-quoted
// with escapes. Long values are not folded (PyYAML folds plain and quoted
// scalars with spaces past 80 columns; both read back the same).
std::string pyyaml_scalar_text(const std::string& s) {
    bool printable_ascii = true;
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f) printable_ascii = false;
    if (!printable_ascii) {
        std::string out = "\"";
        for (std::size_t i = 0; i < s.size();) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            char32_t cp = c;
            std::size_t len = 1;
            if (c >= 0x80) {
                len = (c >= 0xf0) ? 4 : (c >= 0xe0) ? 3 : 2;
                cp = c & (0xff >> (len + 1));
                for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
                    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
            }
            i += len;
            char buf[16];
            if (cp == '"' || cp == '\\') {
                out += '\\';
                out += static_cast<char>(cp);
            } else if (cp == '\t') out += "\\t";
            else if (cp == '\n') out += "\\n";
            else if (cp == '\r') out += "\\r";
            else if (cp >= 0x20 && cp < 0x7f) out += static_cast<char>(cp);
            else if (cp < 0x100) { std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp)); out += buf; }
            else if (cp < 0x10000) { std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp)); out += buf; }
            else { std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp)); out += buf; }
        }
        return out + "\"";
    }
    // YAML 1.1 implicit types PyYAML's resolver recognises: such a string is
    // quoted so that it reads back as a string.
    static const std::regex implicit(
        "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
        "|~|null|Null|NULL|<<|="
        "|[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
        "|[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?"
        "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)"
        "|[0-9]{4}-[0-9]{2}-[0-9]{2}"
        "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \\t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]*)?"
        "(?:[ \\t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$");
    bool plain = !s.empty() && s.front() != ' ' && s.back() != ' ' && !std::regex_match(s, implicit);
    if (plain) {
        static const std::string indicators = "#,[]{}&*!|>'\"%@`";
        if (indicators.find(s.front()) != std::string::npos) plain = false;
        if ((s.front() == '-' || s.front() == '?' || s.front() == ':') && (s.size() == 1 || s[1] == ' '))
            plain = false;
        if (s.back() == ':' || s.find(": ") != std::string::npos || s.find(" #") != std::string::npos)
            plain = false;
    }
    if (plain) return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

// pyyaml_scalar_text, checked: where this imitation of PyYAML would not read
// back as `s` (yaml-cpp and PyYAML differ on some escapes), yaml-cpp's own
// emitter writes the value, which always reads back the same.
std::string pyyaml_scalar(const std::string& s) {
    std::string text = pyyaml_scalar_text(s);
    try {
        YAML::Node back = YAML::Load("a:\n  b:\n    k: " + text + "\n");
        if (back["a"]["b"]["k"].IsScalar() && back["a"]["b"]["k"].as<std::string>() == s) return text;
    } catch (const std::exception&) {
    }
    YAML::Emitter out;
    out << YAML::DoubleQuoted << YAML::EscapeNonAscii << s;
    return out.c_str();
}

}  // namespace

std::string credentials_yaml(const Credentials& creds) {
    if (!creds.oauth) {
        YAML::Emitter out;
        out << YAML::BeginMap << YAML::Key << "cloud" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "api" << YAML::Value << YAML::BeginMap << YAML::Key << "key" << YAML::Value
            << creds.api_key << YAML::EndMap;
        out << YAML::Key << "user" << YAML::Value << YAML::BeginMap << YAML::Key << "email" << YAML::Value
            << creds.email << YAML::EndMap;
        out << YAML::EndMap << YAML::EndMap;
        return std::string(out.c_str()) + "\n";
    }
    // Keys sorted, as yaml.dump sorts them; absent parts left out, as
    // model_dump(exclude_none=True) leaves them out.
    const OAuthLogin& o = *creds.oauth;
    std::string y = "cloud:\n  auth:\n";
    y += "    access_token: " + pyyaml_scalar(o.access_token) + "\n";
    y += "    expires_at: " + pyyaml_scalar(o.expires_at) + "\n";
    y += "    refresh_token: " + pyyaml_scalar(o.refresh_token) + "\n";
    if (o.context) {
        y += "  context:\n";
        y += "    org_id: " + pyyaml_scalar(o.context->org_id) + "\n";
        y += "    org_name: " + pyyaml_scalar(o.context->org_name) + "\n";
        y += "    project_id: " + pyyaml_scalar(o.context->project_id) + "\n";
        y += "    project_name: " + pyyaml_scalar(o.context->project_name) + "\n";
    }
    if (!o.coordinator_url.empty()) y += "  coordinator_url: " + pyyaml_scalar(o.coordinator_url) + "\n";
    y += creds.email.empty() ? std::string("  user: {}\n") : "  user:\n    email: " + pyyaml_scalar(creds.email) + "\n";
    return y;
}

bool save_credentials(const std::filesystem::path& path, const Credentials& creds) {
    return write_file_atomic(path, credentials_yaml(creds), 0600);
}

}  // namespace arcade
