#include "cli/scrub.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace arcade::cli {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
// Scrubbing works on a bounded prefix: the result is cut to 300 characters
// anyway, and the bound keeps the cost flat for megabyte-sized input.
constexpr std::size_t kScanLimit = 4096;

bool is_token_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_' || c == '-' || c == '.' || c == '+' || c == '/' || c == '=';
}
bool is_email_local(char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_email_domain(char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '.' || c == '-';
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
        out.append(text.substr(pos, hit - pos));
        out.append(boundary ? "~" : home);
        pos = end;
    }
    out.append(text.substr(pos));
    return out;
}

// A copy of a text with chosen spans, left to right, replaced by [REDACTED].
class Redaction {
public:
    explicit Redaction(const std::string& text) : text_(text) {}
    // Replaces [from, to); `from` must not precede the end of the last span.
    void redact(std::size_t from, std::size_t to) {
        out_.append(text_, copied_, from - copied_);
        out_.append(kRedacted);
        copied_ = to;
    }
    std::size_t copied() const { return copied_; }
    std::string finish() {
        out_.append(text_, copied_, std::string::npos);
        return std::move(out_);
    }

private:
    const std::string& text_;
    std::string out_;
    std::size_t copied_ = 0;
};

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
        if (left < pos && domain.find('.') != std::string_view::npos && left >= out.copied()) out.redact(left, right);
        pos = right > pos ? right : pos + 1;
    }
    return out.finish();
}

// Redacts the value after a marker such as "bearer " or "api_key=".
std::string redact_after_markers(const std::string& text) {
    static constexpr std::array<std::string_view, 9> markers = {
        "bearer ", "authorization:", "api_key", "api-key", "apikey", "token", "password", "secret", "key"};
    std::string low = lower(text);
    Redaction out(text);
    for (std::size_t i = 0; i < text.size();) {
        std::size_t matched = 0;
        for (auto m : markers) {
            if (low.compare(i, m.size(), m) == 0) {
                matched = m.size();
                break;
            }
        }
        if (matched == 0) {
            ++i;
            continue;
        }
        std::size_t j = i + matched;
        // "key" alone only counts when it is followed by an assignment.
        std::size_t k = j;
        while (k < text.size() && (text[k] == ' ' || text[k] == '"' || text[k] == '\'')) ++k;
        bool assignment = k < text.size() && (text[k] == '=' || text[k] == ':');
        bool is_bearer = low.compare(i, 7, "bearer ") == 0 || low.compare(i, 14, "authorization:") == 0;
        if (!assignment && !is_bearer) {
            i = j;
            continue;
        }
        if (assignment) ++k;
        while (k < text.size() && (text[k] == ' ' || text[k] == '"' || text[k] == '\'')) ++k;
        if (low.compare(k, 7, "bearer ") == 0) k += 7;
        std::size_t end = k;
        while (end < text.size() && is_token_char(text[end])) ++end;
        if (end > k) out.redact(k, end);
        i = std::max(end, j);
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
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' ||
                                     text[end] == '-')) {
            if (std::isdigit(static_cast<unsigned char>(text[end]))) digit = true;
            else if (std::isalpha(static_cast<unsigned char>(text[end]))) letter = true;
            ++end;
        }
        std::string_view word(text.data() + i, end - i);
        bool known_prefix = (word.rfind("arc_", 0) == 0 || word.rfind("phc_", 0) == 0 || word.rfind("sk-", 0) == 0) &&
                            word.size() >= 10;
        if ((word.size() >= 20 && letter && digit) || known_prefix) out.redact(i, end);
        i = end > i ? end : i + 1;
    }
    return out.finish();
}

}  // namespace

std::string scrub_error_message(std::string_view message, std::string_view home_dir) {
    std::string text = replace_home(message.substr(0, kScanLimit), home_dir);
    text = redact_after_markers(text);
    text = redact_emails(text);
    text = redact_tokens(text);
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

}  // namespace arcade::cli
