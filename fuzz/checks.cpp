#include "checks.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli/login_callback.h"
#include "cli/scrub.h"
#include "core/credentials.h"
#include "core/terminal_text.h"
#include "core/time_format.h"
#include "core/url_codec.h"
#include "core/utf8.h"
#include "http/transport.h"
#include "shipper/identity_link.h"
#include "shipper/schedule.h"
#include "store/identity_file.h"
#include "worker_api/cloud_client.h"
#include "worker_api/engine_client.h"
#include "worker_api/sse_parser.h"

namespace arcade::fuzz {
namespace {

void require(bool ok, const char* what) {
    if (!ok) throw InvariantBroken(what);
}

// A file in the temp dir private to this process, removed at exit.
class ScratchFile {
public:
    explicit ScratchFile(const char* what)
        : path_(std::filesystem::temp_directory_path() /
                ("arcade-fuzz-" + std::to_string(::getpid()) + "-" + what)) {}
    ~ScratchFile() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    void write(std::string_view data) const {
        std::ofstream out(path_, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        require(static_cast<bool>(out), "could not write the scratch file (harness)");
    }

private:
    std::filesystem::path path_;
};

// A stand-in for the distinct-id rules parse_identity_json promises.
bool usable_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && !store::is_refused_distinct_id(id);
}

// Credentials that were written must read back unchanged: the login flow
// saves whatever the callback carried and every later command loads it.
void require_credentials_round_trip(const Credentials& creds, const char* what) {
    static const ScratchFile saved("credentials-saved.yaml");
    require(save_credentials(saved.path(), creds), "save_credentials failed");
    auto again = load_credentials(saved.path());
    require(again && again->api_key == creds.api_key && again->email == creds.email &&
                again->is_oauth() == creds.is_oauth(),
            what);
    if (!creds.oauth) return;
    const OAuthLogin& a = *creds.oauth;
    const OAuthLogin& b = *again->oauth;
    require(a.access_token == b.access_token && a.refresh_token == b.refresh_token && a.expires_at == b.expires_at &&
                a.coordinator_url == b.coordinator_url && a.context.has_value() == b.context.has_value(),
            what);
    if (a.context)
        require(a.context->org_id == b.context->org_id && a.context->org_name == b.context->org_name &&
                    a.context->project_id == b.context->project_id &&
                    a.context->project_name == b.context->project_name,
                what);
}

}  // namespace

// ---------------------------------------------------------------------------

void check_identity_json(std::string_view input) {
    const bool refused = store::is_refused_distinct_id(input);
    require(store::is_refused_distinct_id(" " + std::string(input) + "\t\n") == refused,
            "surrounding whitespace changed is_refused_distinct_id");

    auto id = store::parse_identity_json(input);
    if (!id) return;
    require(usable_id(id->anon_id), "parse_identity_json accepted an unusable anon_id");
    require(!id->principal_id || usable_id(*id->principal_id),
            "parse_identity_json accepted an unusable linked_principal_id");

    // The journal rewrites usage.json from what it imported: an identity the
    // parser accepts must be written so that it reads back the same.
    const std::string text = store::format_identity_json(*id);
    auto again = store::parse_identity_json(text);
    require(again.has_value(), "format_identity_json wrote text that parse_identity_json refuses");
    require(*again == *id, "format_identity_json wrote text that reads back as another identity");
    require(store::format_identity_json(*again) == text, "format_identity_json is not stable");
}

// ---------------------------------------------------------------------------

void check_credentials(std::string_view input) {
    static const ScratchFile file("credentials.yaml");
    file.write(input);
    auto creds = load_credentials(file.path());
    if (!creds) return;
    require(!creds->secret().empty(), "load_credentials returned an empty key or token");
    require_credentials_round_trip(*creds, "credentials that load_credentials accepted do not survive a save and load");
}

// ---------------------------------------------------------------------------

namespace {

using worker_api::SseEvent;
using worker_api::SseParser;

// Feeds `stream` in pieces of the lengths `next_len` returns (0 means an
// empty chunk) and collects every event.
template <typename NextLen>
std::vector<SseEvent> feed_split(std::string_view stream, NextLen next_len) {
    SseParser parser;
    std::vector<SseEvent> events;
    while (!stream.empty()) {
        std::size_t n = std::min(next_len(), stream.size());
        for (auto& e : parser.feed(stream.substr(0, n))) events.push_back(std::move(e));
        stream.remove_prefix(n);
    }
    for (auto& e : parser.feed({})) events.push_back(std::move(e));
    return events;
}

}  // namespace

void check_sse(std::string_view input) {
    std::uint32_t seed = 0x9e3779b9;
    const std::size_t seed_len = std::min<std::size_t>(4, input.size());
    for (std::size_t i = 0; i < seed_len; ++i) seed = (seed << 8) ^ static_cast<unsigned char>(input[i]) ^ (seed >> 24);
    std::string_view stream = input.substr(seed_len);
    if (seed == 0) seed = 1;

    auto whole = feed_split(stream, [&] { return stream.size(); });
    auto bytes = feed_split(stream, [] { return std::size_t{1}; });
    // xorshift32: mostly short pieces, now and then an empty or a long one.
    auto random = feed_split(stream, [&] {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        switch (seed % 8) {
            case 0: return std::size_t{0};
            case 1: return std::size_t{1} + seed % 512;
            default: return std::size_t{1} + seed % 7;
        }
    });
    require(whole == bytes, "SSE events differ when the stream is fed one byte at a time");
    require(whole == random, "SSE events differ when the stream is fed in random pieces");

    for (const auto& e : whole) {
        require(e.type.size() <= SseParser::kMaxFieldBytes && e.data.size() <= SseParser::kMaxFieldBytes &&
                    e.id.size() <= SseParser::kMaxFieldBytes,
                "an SSE field is longer than kMaxFieldBytes");
        require(e.id.find('\0') == std::string::npos, "an SSE id contains NUL");
        require(e.has_data || e.data.empty(), "an SSE event without data lines has data");
    }
}

// ---------------------------------------------------------------------------

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::int64_t kYear10000Ms = 253402300800000;  // 10000-01-01T00:00:00Z
constexpr const char* kApiKey = "arc_fuzzKEY0123456789";

struct Answer {
    int status;
    http::Failure failure;
};
constexpr Answer kAnswers[] = {
    {200, http::Failure::none}, {201, http::Failure::none}, {204, http::Failure::none},
    {299, http::Failure::none}, {100, http::Failure::none}, {301, http::Failure::none},
    {400, http::Failure::none}, {401, http::Failure::none}, {403, http::Failure::none},
    {404, http::Failure::none}, {408, http::Failure::none}, {413, http::Failure::none},
    {429, http::Failure::none}, {500, http::Failure::none}, {503, http::Failure::none},
    {599, http::Failure::none}, {600, http::Failure::none}, {-1, http::Failure::none},
    {0, http::Failure::none},   {0, http::Failure::connect}, {0, http::Failure::timeout},
    {0, http::Failure::reset},  {0, http::Failure::cancelled}, {0, http::Failure::other},
};

// Answers every request with one canned response and remembers the request.
class CannedTransport : public http::Transport {
public:
    explicit CannedTransport(http::Response response) : response_(std::move(response)) {}
    http::Response send(const http::Request& req) override {
        seen.push_back(req);
        return response_;
    }
    // Hands the body to `sink` in 7-byte pieces, as a slow server would.
    http::Response stream(const http::Request& req, const http::ChunkSink& sink) override {
        seen.push_back(req);
        std::string_view body = response_.body;
        while (!body.empty() && sink(body.substr(0, 7))) body.remove_prefix(std::min<std::size_t>(7, body.size()));
        http::Response headers_only = response_;
        headers_only.body.clear();
        return headers_only;
    }
    std::vector<http::Request> seen;

private:
    http::Response response_;
};

http::Response canned_response(std::string_view input) {
    const Answer answer = kAnswers[static_cast<unsigned char>(input[0]) % std::size(kAnswers)];
    http::Response response;
    response.status = answer.status;
    response.failure = answer.failure;
    if (answer.failure != http::Failure::none) response.error = "simulated transport failure";
    response.body = std::string(input.substr(1));
    return response;
}

void check_retry_after(const std::string& value, std::int64_t now_ms) {
    auto delay = shipper::parse_retry_after(value, now_ms);
    if (delay) require(delay->count() >= 0 && delay->count() <= kDayMs, "parse_retry_after is outside [0, 1 day]");
    std::string_view trimmed = value;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.remove_suffix(1);
    if (!trimmed.empty() &&
        std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        require(delay.has_value(), "parse_retry_after refused delta-seconds");

    shipper::RetryPolicy policy;
    for (int retry = 1; retry <= policy.max_retries + 1; ++retry) {
        auto next = policy.next_delay(retry, delay);
        require(next >= policy.first_delay && (!delay || next >= *delay),
                "RetryPolicy::next_delay is shorter than asked for");
    }
    if (delay) (void)human_age(delay->count());
}

void check_instants(std::string_view text) {
    if (auto at = parse_rfc3339(text); at && *at >= 0 && *at < kYear10000Ms)
        require(parse_rfc3339(rfc3339_ms(*at)) == at, "rfc3339_ms does not read back through parse_rfc3339");

    if (auto at = parse_http_date(text)) {
        require(*at % 1000 == 0, "parse_http_date returned a fraction of a second");
        // The same instant spelt in RFC 3339 must agree: both parsers share
        // the calendar but not the field handling.
        static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
        auto month = kMonths.find(text.substr(8, 3)) / 3 + 1;
        std::string rfc = std::string(text.substr(12, 4)) + "-" + (month < 10 ? "0" : "") + std::to_string(month) +
                          "-" + std::string(text.substr(5, 2)) + "T" + std::string(text.substr(17, 8)) + "Z";
        require(parse_rfc3339(rfc) == at, "parse_http_date and parse_rfc3339 disagree on one instant");
    }
}

}  // namespace

void check_posthog_response(std::string_view input) {
    if (input.empty()) return;
    http::Response response = canned_response(input);
    const std::string text = response.body;
    response.headers = {{"content-type", "application/json"}, {"retry-after", text}};

    const auto verdict = shipper::classify(response);
    require((verdict == shipper::Verdict::delivered) == (response.ok() && !response.transport_failed()),
            "classify delivered a response that was not a 2xx");
    require(response.header("retry-after") == text, "Response::header lost the Retry-After value");

    for (std::int64_t now_ms : {std::int64_t{0}, std::int64_t{1'790'000'000'000}, kYear10000Ms})
        check_retry_after(text, now_ms);
    check_instants(text);

    CannedTransport transport(response);
    auto found = shipper::lookup_principal(transport, "http://cloud.invalid", Credentials{kApiKey, "", std::nullopt});
    require(transport.seen.size() == 1 && transport.seen[0].url == "http://cloud.invalid/api/v1/auth/validate",
            "lookup_principal did not make exactly one validate request");
    using Outcome = shipper::PrincipalLookup::Outcome;
    const bool rejected = response.status == 401 || response.status == 403;
    require((found.outcome == Outcome::unauthorized) == rejected, "lookup_principal misread 401/403");
    if (found.outcome == Outcome::found) {
        require(response.ok() && !found.principal_id.empty(), "lookup_principal found a principal without a 2xx");
        // Journal::link stores any principal that is not a refused id, and
        // usage.json must then read back with it.
        if (!store::is_refused_distinct_id(found.principal_id)) {
            const store::Identity linked{"0b7a3c1e-6f1d-4c8e-9a55-0d3f2e1b7c44", found.principal_id};
            require(store::parse_identity_json(store::format_identity_json(linked)) == linked,
                    "a principal lookup_principal found does not survive usage.json");
        }
    } else {
        require(found.principal_id.empty(), "lookup_principal returned a principal it did not find");
    }
    require(found.detail.find(kApiKey) == std::string::npos, "lookup_principal's detail contains the API key");
}

// ---------------------------------------------------------------------------

namespace {

// `body` is what the server answered: a server that echoes the key may have
// it shown back, but nothing else may put it into a message.
template <typename T>
void require_clean_error(const worker_api::ApiResult<T>& result, std::string_view body) {
    if (result) return;
    const std::string text = result.error().describe();
    require(std::none_of(text.begin(), text.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }),
            "ApiError::describe() contains a control character");
    if (body.find(kApiKey) == std::string_view::npos)
        require(text.find(kApiKey) == std::string::npos, "ApiError::describe() contains the API key");
}

}  // namespace

void check_worker_api_response(std::string_view input) {
    if (input.empty()) return;
    const std::string_view body = input.substr(1);
    CannedTransport transport(canned_response(input));
    worker_api::ClientConfig config;
    config.base_url = "http://arcade.invalid";
    config.api_key = kApiKey;
    // Transient answers are still retried (the retry path parses them too),
    // without the real 0.5 s and 1 s waits, which cut the run to a few
    // inputs a minute. The policy's delays have their own tests.
    config.retry.first_delay = std::chrono::milliseconds(0);

    worker_api::EngineClient engine(transport, config);
    require_clean_error(engine.list_workers(), body);
    require_clean_error(engine.list_toolkits("w1"), body);
    require_clean_error(engine.set_enabled("w1", true), body);
    require_clean_error(engine.remove_worker("w1"), body);

    worker_api::CloudClient cloud(transport, config);
    require_clean_error(cloud.list_workers(), body);
    require_clean_error(cloud.delete_deployment("w1"), body);
    int events = 0;
    require_clean_error(cloud.stream_logs("w1", [&](const worker_api::SseEvent&) { return ++events < 1000; }), body);

    // Paging is bounded, whatever the server answers.
    require(transport.seen.size() <= 3 * static_cast<std::size_t>(worker_api::EngineClient::kMaxPages) + 4,
            "the worker clients asked for more pages than their bound");
}

// ---------------------------------------------------------------------------

namespace {

// Whether `secret` is one the scrubber promises to remove wherever it shows:
// long enough to redact by value, printable ASCII (what valid_utf8 might
// turn into U+FFFD cannot be promised), without what the scrubber writes
// itself (`~`, `%` escapes it decodes, the `[REDACTED]` marker).
bool promised_secret(std::string_view secret) {
    if (secret.size() < cli::kMinSecretChars) return false;
    for (char c : secret)
        if (c < 0x21 || c > 0x7E || c == '~' || c == '%' || c == '[' || c == ']') return false;
    return std::string_view("[REDACTED]").find(secret) == std::string_view::npos;
}

}  // namespace

void check_scrub(std::string_view input) {
    if (input.empty()) return;
    const std::size_t home_len = std::min<std::size_t>(static_cast<unsigned char>(input[0]), input.size() - 1);
    const std::string_view home = input.substr(1, home_len);
    std::string_view message = input.substr(1 + home_len);
    // After the first NUL: the current credentials' values, NUL-separated.
    std::vector<std::string> secrets;
    if (auto nul = message.find('\0'); nul != std::string_view::npos) {
        std::string_view rest = message.substr(nul + 1);
        message = message.substr(0, nul);
        while (!rest.empty()) {
            auto end = rest.find('\0');
            secrets.emplace_back(rest.substr(0, end));
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        }
    }

    const std::string out = cli::scrub_error_message(message, home, secrets);
    require(cli::valid_utf8(out) == out, "scrub_error_message returned invalid UTF-8 or a control character");
    std::size_t code_points = 0;
    for (char c : out) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    require(code_points <= cli::kMaxErrorMessageChars, "scrub_error_message returned over 300 code points");
    for (const auto& secret : secrets)
        if (promised_secret(secret)) require(out.find(secret) == std::string::npos, "a current secret survived");

    const std::string clean = cli::valid_utf8(message);
    require(cli::valid_utf8(clean) == clean, "valid_utf8 is not idempotent");

    // A plain home directory followed by '/' never survives. (Homes with other
    // characters could be rebuilt by the redactions' own text.)
    std::string_view plain_home = home;
    while (plain_home.size() > 1 && plain_home.back() == '/') plain_home.remove_suffix(1);
    const bool plain = plain_home.size() > 1 && plain_home.front() == '/' &&
                       std::all_of(plain_home.begin(), plain_home.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '/'; });
    if (plain) require(out.find(std::string(plain_home) + "/") == std::string::npos, "the home directory leaked");
}

// ---------------------------------------------------------------------------

namespace {

// What terminal_safe promises: nothing a terminal obeys (C0 but the line
// breaks `lines` keeps, DEL, C1 encoded or raw), and well-formed UTF-8.
void require_terminal_safe(const std::string& shown, bool lines) {
    require(is_valid_utf8(shown), "terminal text is not well-formed UTF-8");
    for (std::size_t i = 0; i < shown.size(); ++i) {
        auto c = static_cast<unsigned char>(shown[i]);
        if (lines && (c == '\n' || c == '\t')) continue;
        require(c >= 0x20 && c != 0x7F, "a C0 control or DEL reached the terminal");
        if (c == 0xC2 && i + 1 < shown.size()) {
            auto next = static_cast<unsigned char>(shown[i + 1]);
            require(next < 0x80 || next > 0x9F, "a C1 control reached the terminal");
        }
    }
}

}  // namespace

void check_terminal_text(std::string_view input) {
    const std::string line = terminal_safe(input);
    const std::string lines = terminal_safe_lines(input);
    require_terminal_safe(line, false);
    require_terminal_safe(lines, true);
    require(terminal_safe(line) == line, "terminal_safe is not idempotent");
    require(terminal_safe_lines(lines) == lines, "terminal_safe_lines is not idempotent");
    require(std::count(lines.begin(), lines.end(), '\n') == std::count(input.begin(), input.end(), '\n'),
            "terminal_safe_lines changed the number of lines");
    // Text with nothing to replace comes through unchanged.
    if (is_valid_utf8(input) && std::none_of(input.begin(), input.end(), [](char ch) {
            auto c = static_cast<unsigned char>(ch);
            return c < 0x20 || c == 0x7F || c == 0xC2;
        }))
        require(line == input, "terminal_safe changed printable text");
    for (std::size_t i = 0; i < std::min<std::size_t>(input.size(), 64); ++i) {
        const std::size_t n = terminal_control_length(input.substr(i));
        require(n <= input.size() - i && n <= 2, "terminal_control_length measured past the text");
    }

    // The input as a JSON string and object key, pretty-printed the way
    // `usage status --json` writes: once made safe it is still JSON, holds
    // the same text where that text was well-formed UTF-8, and carries no
    // terminal control but the writer's newlines.
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key(input.data(), static_cast<rapidjson::SizeType>(input.size()));
    w.String(input.data(), static_cast<rapidjson::SizeType>(input.size()));
    w.EndObject();
    const std::string safe = json_terminal_safe(std::string_view(buf.GetString(), buf.GetSize()));
    require(terminal_safe_lines(safe) == safe, "json_terminal_safe left a terminal control");
    rapidjson::Document d;
    d.Parse(safe.data(), safe.size());
    require(!d.HasParseError() && d.IsObject() && d.MemberCount() == 1, "json_terminal_safe broke the JSON");
    const auto& member = *d.MemberBegin();
    require(member.value.IsString(), "json_terminal_safe broke the JSON");
    const std::string_view value(member.value.GetString(), member.value.GetStringLength());
    require(std::string_view(member.name.GetString(), member.name.GetStringLength()) == value,
            "json_terminal_safe treated a key and a value differently");
    if (is_valid_utf8(input)) require(value == input, "json_terminal_safe changed well-formed text");
}

// ---------------------------------------------------------------------------

void check_auth_callback(std::string_view input) {
    using Outcome = cli::auth::CallbackVerdict::Outcome;
    namespace auth = cli::auth;
    constexpr std::string_view kState = "st4te";

    require(percent_decode(percent_encode(input)) == input, "percent_decode(percent_encode(x)) != x");
    const std::string shown = terminal_safe(input);
    for (std::size_t i = 0; i < shown.size(); ++i) {
        auto c = static_cast<unsigned char>(shown[i]);
        require(c >= 0x20 && c != 0x7F, "terminal_safe let a control character through");
        if (c == 0xC2 && i + 1 < shown.size()) {
            auto next = static_cast<unsigned char>(shown[i + 1]);
            require(next < 0x80 || next > 0x9F, "terminal_safe let a C1 control through");
        }
    }
    const std::string escaped = auth::html_escape(input);
    require(escaped.find_first_of("<>\"'") == std::string::npos, "html_escape left markup");
    const auto half = input.size() / 2;
    require(auth::constant_time_equal(input.substr(0, half), input.substr(half)) ==
                (input.substr(0, half) == input.substr(half)),
            "constant_time_equal disagrees with ==");

    auto line = auth::parse_request_line(input);
    if (!line) return;
    require(!line->method.empty() && !line->target.empty() && line->target.front() == '/',
            "parse_request_line accepted an empty method or a target not starting with '/'");
    require(line->path + (line->target.find('?') == std::string::npos ? "" : "?" + line->query) == line->target,
            "parse_request_line's path and query do not make up the target");

    const auto params = parse_query(line->query);
    // The OAuth flow: only the right state ends the login, and a code is
    // only handed on when it could travel in a form body unchanged.
    const auto oauth = auth::judge_callback(*line, kState, auth::Flow::oauth);
    require(auth::judge_callback(*line, "", auth::Flow::oauth).outcome != Outcome::ok,
            "judge_callback (oauth) accepted an empty expected state");
    if (oauth.outcome == Outcome::ok || oauth.outcome == Outcome::denied || oauth.outcome == Outcome::missing_fields) {
        auto state = params.find("state");
        require(line->path == "/callback" && line->method == "GET" && state != params.end() &&
                    state->second == kState,
                "judge_callback (oauth) decided on a request without the right state");
    }
    require((oauth.outcome == Outcome::ok) == !oauth.code.empty(), "judge_callback (oauth) code and outcome disagree");
    if (oauth.outcome == Outcome::ok) {
        auto code = params.find("code");
        require(code != params.end() && code->second == oauth.code && params.count("error") == 0,
                "judge_callback (oauth) accepted a code it was not sent");
    }

    const auto verdict = auth::judge_callback(*line, kState);
    require(auth::judge_callback(*line, "").outcome != Outcome::ok, "judge_callback accepted an empty expected state");
    if (verdict.outcome == Outcome::ok || verdict.outcome == Outcome::missing_fields) {
        auto state = params.find("state");
        require(line->path == "/callback" && line->method == "GET" && state != params.end() &&
                    state->second == kState,
                "judge_callback accepted a request without the right state");
    }
    if (verdict.outcome != Outcome::ok) {
        require(verdict.credentials.api_key.empty() && verdict.credentials.email.empty(),
                "judge_callback returned credentials for a refused request");
        return;
    }
    require(!verdict.credentials.api_key.empty() && !verdict.credentials.email.empty(),
            "judge_callback accepted empty credentials");
    // `arcade login` saves exactly these; every later command loads them.
    require_credentials_round_trip(verdict.credentials,
                                   "credentials from a login callback do not survive a save and load");
}

}  // namespace arcade::fuzz
