#include "cli/scrub.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/credentials.h"
#include "core/paths.h"
#include "core/url_codec.h"

namespace arcade::cli {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
// Scrubbing works on a bounded prefix: the result is cut to 300 characters
// anyway, and the bound keeps the cost flat for megabyte-sized input.
constexpr std::size_t kScanLimit = 4096;
// How many layers of percent-encoding are looked through (`%2540` is an
// `@` encoded twice, as a URL quoted inside a URL's query shows it).
constexpr int kDecodeRounds = 3;

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_token_char(char c) {
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '+' || c == '/' || c == '=';
}
// RFC 5322 atext and dots, plus any non-ASCII byte (RFC 6531 addresses).
bool is_email_local(char c) {
    return is_alnum(c) || is_non_ascii(c) || std::string_view(".!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}
bool is_email_domain(char c) { return is_alnum(c) || is_non_ascii(c) || c == '.' || c == '-'; }
// Where a URL's authority ends (user-info cannot hold these unencoded).
bool ends_authority(char c) {
    return is_space(c) || c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' ||
           c == '`' || c == '\\';
}
// RFC 3986 user-info without the scheme: unreserved, sub-delims, ':' and '%'.
bool is_userinfo_char(char c) {
    return is_alnum(c) || is_non_ascii(c) || std::string_view("-._~!$&'()*+,;=:%").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string replace_home(std::string_view text, std::string_view home) {
    while (home.size() > 1 && home.back() == '/') home.remove_suffix(1);
    if (home.size() <= 1) return std::string(text);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto hit = text.find(home, pos);
        if (hit == std::string_view::npos) break;
        std::size_t end = hit + home.size();
        bool boundary = end == text.size() || text[end] == '/' || !is_token_char(text[end]);
        if (!boundary) {
            // Not this home ("/home/ada" in "/home/adam"), but the home may
            // start inside it ("/home/hom" in "/home/home/hom/"): look on
            // from the next character.
            out.append(text.substr(pos, hit + 1 - pos));
            pos = hit + 1;
            continue;
        }
        out.append(text.substr(pos, hit - pos));
        out.append("~");
        pos = end;
    }
    out.append(text.substr(pos));
    return out;
}

// A copy of a text with chosen spans, left to right, replaced by [REDACTED].
class Redaction {
public:
    explicit Redaction(const std::string& text) : text_(text) {}
    // Replaces [from, to); a span that starts inside the last one is merged
    // into it.
    void redact(std::size_t from, std::size_t to) {
        if (to <= copied_) return;
        if (from < copied_) from = copied_;
        if (from > copied_ || out_.empty() || !out_.ends_with(kRedacted)) {
            out_.append(text_, copied_, from - copied_);
            out_.append(kRedacted);
        }
        copied_ = to;
    }
    std::string finish() {
        out_.append(text_, copied_, std::string::npos);
        return std::move(out_);
    }

private:
    const std::string& text_;
    std::string out_;
    std::size_t copied_ = 0;
};

// Every occurrence of each secret, as it is and percent-encoded (the decoded
// rounds catch other encodings of it). All occurrences are found in the text
// as given and replaced in one pass: replacing secret after secret would let
// one secret's marker hold the next one (a secret inside "[REDACTED]"), and
// the text grow with every secret (a long fuzz run found an input whose
// thousand secrets took over 10 s and 1 GiB).
std::string redact_values(const std::string& text, const std::vector<std::string>& secrets) {
    std::vector<std::string> forms;
    for (const auto& secret : secrets) {
        if (secret.size() < kMinSecretChars) continue;
        forms.push_back(secret);
        forms.push_back(percent_encode(secret));
    }
    std::sort(forms.begin(), forms.end());
    forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
    if (forms.empty()) return text;
    // The markers earlier rules and rounds wrote are left alone: markers[i]
    // counts the marker characters before i.
    std::vector<std::size_t> markers(text.size() + 1, 0);
    for (std::size_t at = text.find(kRedacted); at != std::string::npos; at = text.find(kRedacted, at + 1))
        for (std::size_t i = at; i < at + kRedacted.size(); ++i) markers[i + 1] = 1;
    for (std::size_t i = 0; i < text.size(); ++i) markers[i + 1] += markers[i];
    // reach[i]: where the longest secret found at i ends (0: none starts here).
    std::vector<std::size_t> reach;
    for (const auto& form : forms)
        for (std::size_t hit = text.find(form); hit != std::string::npos; hit = text.find(form, hit + 1)) {
            if (markers[hit + form.size()] != markers[hit]) continue;  // inside or across a marker
            if (reach.empty()) reach.assign(text.size(), 0);
            reach[hit] = std::max(reach[hit], hit + form.size());
        }
    if (reach.empty()) return text;
    Redaction out(text);
    for (std::size_t i = 0; i < text.size();) {
        if (reach[i] == 0) {
            ++i;
            continue;
        }
        std::size_t end = reach[i];  // overlapping secrets become one span
        for (std::size_t j = i + 1; j < end; ++j) end = std::max(end, reach[j]);
        out.redact(i, end);
        i = end;
    }
    return out.finish();
}

// `scheme://user:password@host` and `user:password@host`: the user-info,
// whatever the host looks like and whatever the password ends with.
std::string redact_userinfo(const std::string& text) {
    Redaction out(text);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t scheme = text.find("://", pos);
        std::size_t at = text.find('@', pos);
        if (at == std::string::npos) break;
        if (scheme != std::string::npos && scheme < at) {
            // The authority runs to the first '/', '?', '#' or space; its
            // user-info to the last '@' in it.
            std::size_t start = scheme + 3, end = start;
            std::size_t last_at = std::string::npos;
            while (end < text.size() && !ends_authority(text[end])) {
                if (text[end] == '@') last_at = end;
                ++end;
            }
            if (last_at != std::string::npos && last_at > start) out.redact(start, last_at);
            pos = std::max(end, start);
            continue;
        }
        // No scheme: `user:secret@host` — user-info with a colon.
        std::size_t left = at;
        bool colon = false;
        while (left > pos && is_userinfo_char(text[left - 1])) {
            if (text[left - 1] == ':') colon = true;
            --left;
        }
        if (colon && left < at) out.redact(left, at);
        pos = at + 1;
    }
    return out.finish();
}

struct Marker {
    std::string_view name;
    bool space_separated;  // `password hunter2` counts, not only `password=` / `password:`
    bool whole_line;       // the value is the rest of the line (a header)
};

// Key–value pairs whose value is a secret: `password hunter2`,
// `token: abc`, `api_key="x"`, `Cookie: a=b; c=d`, `Authorization: Basic x`.
std::string redact_key_values(const std::string& text) {
    static constexpr std::array<Marker, 14> markers = {{
        {"set-cookie", false, true},
        {"cookie", false, true},
        {"authorization", false, true},
        {"proxy-authorization", false, true},
        {"bearer", true, false},
        {"password", true, false},
        {"passwd", true, false},
        {"passphrase", true, false},
        {"secret", true, false},
        {"token", true, false},
        {"api_key", true, false},
        {"api-key", true, false},
        {"apikey", true, false},
        {"key", false, false},
    }};
    const std::string low = lower(text);
    Redaction out(text);
    for (std::size_t i = 0; i < text.size();) {
        const Marker* found = nullptr;
        // A marker starts a word: `session_token` and `x-api-key` count
        // (`_` and `-` are not letters), `monkey` does not.
        if (i == 0 || !is_alnum(text[i - 1]))
            for (const auto& m : markers)
                if (low.compare(i, m.name.size(), m.name) == 0) {
                    found = &m;
                    break;
                }
        if (!found) {
            ++i;
            continue;
        }
        const std::size_t after = i + found->name.size();
        // The key may run on (`password_hash`, `tokens`, `secretKey`).
        std::size_t k = after;
        while (k < text.size() && (is_alnum(text[k]) || text[k] == '_' || text[k] == '-')) ++k;
        const bool exact = k == after;
        while (k < text.size() && (text[k] == '"' || text[k] == '\'')) ++k;
        std::size_t gap = k;
        while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
        bool assigned = k < text.size() && (text[k] == '=' || text[k] == ':');
        if (assigned) ++k;
        else if (!(found->space_separated && exact && k > gap)) {
            i = after;
            continue;
        }
        while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
        std::size_t end = k;
        if (found->whole_line) {
            while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
        } else {
            // An auth scheme is part of the value's preamble, not the value.
            for (std::string_view scheme : {"bearer ", "basic ", "token "})
                if (low.compare(k, scheme.size(), scheme) == 0) {
                    k += scheme.size();
                    break;
                }
            end = k;
            if (end < text.size() && (text[end] == '"' || text[end] == '\'')) {
                char quote = text[end];
                auto close = text.find(quote, end + 1);
                end = close == std::string::npos ? text.size() : close + 1;
            } else {
                while (end < text.size() && !is_space(text[end]) &&
                       std::string_view(",;&)]}\"'<>").find(text[end]) == std::string_view::npos)
                    ++end;
            }
        }
        if (end > k) out.redact(k, end);
        i = std::max(end, after);
    }
    return out.finish();
}

std::string redact_emails(const std::string& text) {
    Redaction out(text);
    std::size_t pos = 0;
    while ((pos = text.find('@', pos)) != std::string::npos) {
        std::size_t left = pos;
        while (left > 0 && is_email_local(text[left - 1])) --left;
        std::size_t right = pos + 1;
        while (right < text.size() && is_email_domain(text[right])) ++right;
        std::string_view domain(text.data() + pos + 1, right - pos - 1);
        while (!domain.empty() && domain.back() == '.') {
            domain.remove_suffix(1);
            --right;
        }
        if (left < pos && domain.find('.') != std::string_view::npos) out.redact(left, right);
        pos = right > pos ? right : pos + 1;
    }
    return out.finish();
}

// Long runs mixing letters and digits look like keys or tokens.
std::string redact_tokens(const std::string& text) {
    Redaction out(text);
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_token_char(text[i]) || text[i] == '.' || text[i] == '/' || text[i] == '=') {
            ++i;
            continue;
        }
        std::size_t end = i;
        bool letter = false, digit = false;
        while (end < text.size() && (is_alnum(text[end]) || text[end] == '_' || text[end] == '-')) {
            if (std::isdigit(static_cast<unsigned char>(text[end]))) digit = true;
            else if (std::isalpha(static_cast<unsigned char>(text[end]))) letter = true;
            ++end;
        }
        std::string_view word(text.data() + i, end - i);
        bool known_prefix = (word.starts_with("arc_") || word.starts_with("phc_") || word.starts_with("sk-")) &&
                            word.size() >= 10;
        if ((word.size() >= 20 && letter && digit) || known_prefix) out.redact(i, end);
        i = end > i ? end : i + 1;
    }
    return out.finish();
}

// One round of every rule, on text as it stands.
std::string redact_all(std::string text, std::string_view home, const std::vector<std::string>& secrets) {
    text = redact_values(text, secrets);
    text = redact_values(replace_home(text, home), secrets);
    text = redact_userinfo(text);
    text = redact_key_values(text);
    text = redact_emails(text);
    return redact_tokens(text);
}

}  // namespace

std::string scrub_error_message(std::string_view message, std::string_view home_dir,
                                const std::vector<std::string>& secrets) {
    // The rules first see the text as it is (a percent-encoded password is
    // still inside its URL's authority), then each decoded layer (an e-mail
    // or a home path quoted inside a URL only shows once decoded).
    std::string text = redact_all(std::string(message.substr(0, kScanLimit)), home_dir, secrets);
    for (int round = 0; round < kDecodeRounds; ++round) {
        std::string decoded = percent_decode_escapes(text);
        if (decoded == text) break;
        text = redact_all(std::move(decoded), home_dir, secrets);
    }
    text = valid_utf8(text);
    // Cut at 300 code points, never inside a UTF-8 sequence.
    std::size_t chars = 0, i = 0;
    while (i < text.size() && chars < kMaxErrorMessageChars) {
        auto c = static_cast<unsigned char>(text[i]);
        i += c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
        ++chars;
    }
    text.resize(std::min(i, text.size()));
    return text;
}

std::vector<std::string> current_secret_values(const Environ& env) {
    try {
        auto paths = config_paths(env);
        if (!paths) return {};
        auto creds = load_credentials(paths->credentials());
        return creds ? creds->secret_values() : std::vector<std::string>{};
    } catch (...) {
        return {};
    }
}

}  // namespace arcade::cli
