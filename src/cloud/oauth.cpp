#include "cloud/oauth.h"

#include <cstdio>
#include <ctime>
#include <utility>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "core/sha256.h"
#include "core/url_codec.h"

namespace arcade::cloud {

namespace {

// Answers bigger than this are not what the protocol sends.
constexpr std::size_t kMaxAnswer = 1024 * 1024;

Failure failure(Failure::Kind kind, int status, std::string message) {
    return Failure{kind, status, std::move(message)};
}

// What went wrong with `resp` for the step `what`, when it is not a usable 2xx.
std::optional<Failure> check(const http::Response& resp, std::string_view what) {
    if (resp.transport_failed())
        return failure(Failure::Kind::unreachable, 0, fmt::format("could not reach {}: {}", what, resp.error));
    if (resp.status == 404) return failure(Failure::Kind::not_served, 404, fmt::format("{} answered 404", what));
    if (!resp.ok()) return failure(Failure::Kind::refused, resp.status, fmt::format("{} answered {}", what, resp.status));
    if (resp.body.size() > kMaxAnswer)
        return failure(Failure::Kind::bad_answer, resp.status, fmt::format("{} sent an oversized answer", what));
    return std::nullopt;
}

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* name) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool parse_object(std::string_view body, rapidjson::Document& doc) {
    doc.Parse(body.data(), body.size());
    return !doc.HasParseError() && doc.IsObject();
}

// A request to the Coordinator that asks for JSON: bounded by `timeout`
// (connecting by at most 5 s of it) and abandoned when `*cancel` turns true.
http::Request coordinator_request(const std::string& url, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>* cancel) {
    http::Request req;
    req.cancel = cancel;
    req.url = url;
    req.timeout = timeout;
    req.connect_timeout = std::min(timeout, std::chrono::milliseconds(5000));
    req.headers = {{"Accept", "application/json"}};
    return req;
}

http::Request form_post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& fields,
                        std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
    http::Request req = coordinator_request(url, timeout, cancel);
    req.method = "POST";
    req.headers.insert(req.headers.begin(), {"Content-Type", "application/x-www-form-urlencoded"});
    for (const auto& [k, v] : fields) {
        if (!req.body.empty()) req.body += '&';
        req.body += percent_encode(k) + "=" + percent_encode(v);
    }
    return req;
}

Result<Tokens> token_request(http::Transport& transport, const CliConfig& config,
                             const std::vector<std::pair<std::string, std::string>>& fields,
                             std::chrono::milliseconds timeout, const std::string& keep_refresh,
                             const std::atomic<bool>* cancel) {
    Result<Tokens> out;
    http::Response resp = transport.send(form_post(config.token_endpoint, fields, timeout, cancel));
    if (auto bad = check(resp, "the token endpoint")) {
        // An OAuth error answer names its reason (`invalid_grant`, ...):
        // worth showing, and it never holds a token.
        rapidjson::Document doc;
        if (bad->kind == Failure::Kind::refused && parse_object(resp.body, doc))
            if (auto e = string_member(doc, "error"))
                if (e->size() <= 64) bad->message += " (" + *e + ")";
        out.failure = std::move(*bad);
        return out;
    }
    rapidjson::Document doc;
    if (!parse_object(resp.body, doc)) {
        out.failure = failure(Failure::Kind::bad_answer, resp.status, "the token endpoint's answer is not JSON");
        return out;
    }
    Tokens t;
    auto access = string_member(doc, "access_token");
    auto refresh = string_member(doc, "refresh_token");
    auto type = string_member(doc, "token_type");
    auto expires = doc.FindMember("expires_in");
    bool has_expiry = expires != doc.MemberEnd() && expires->value.IsInt64() && expires->value.GetInt64() >= 0;
    if (!access || access->empty() || !usable_credential_text(*access) || !has_expiry ||
        (refresh && !usable_credential_text(*refresh))) {
        out.failure = failure(Failure::Kind::bad_answer, resp.status,
                              "the token endpoint's answer lacks a usable access_token or expires_in");
        return out;
    }
    t.access_token = std::move(*access);
    t.refresh_token = refresh && !refresh->empty() ? std::move(*refresh) : keep_refresh;
    if (t.refresh_token.empty()) {
        out.failure = failure(Failure::Kind::bad_answer, resp.status, "the token endpoint sent no refresh_token");
        return out;
    }
    t.expires_in = expires->value.GetInt64();
    t.token_type = type.value_or("");
    out.value = std::move(t);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// PKCE

std::optional<std::string> new_code_verifier() { return random_urlsafe(64); }

std::string code_challenge(std::string_view verifier) {
    Sha256Digest d = sha256(verifier);
    return base64url(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// ---------------------------------------------------------------------------
// The protocol

Result<CliConfig> fetch_cli_config(http::Transport& transport, const std::string& coordinator,
                                   std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
    Result<CliConfig> out;
    http::Request req = coordinator_request(coordinator + "/api/v1/auth/cli_config", timeout, cancel);
    http::Response resp = transport.send(req);
    if (auto bad = check(resp, "the login configuration (cli_config)")) {
        out.failure = std::move(*bad);
        return out;
    }
    rapidjson::Document doc;
    CliConfig c;
    if (parse_object(resp.body, doc)) {
        c.client_id = string_member(doc, "client_id").value_or("");
        c.authorization_endpoint = string_member(doc, "authorization_endpoint").value_or("");
        c.token_endpoint = string_member(doc, "token_endpoint").value_or("");
    }
    auto is_http = [](const std::string& u) { return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0; };
    if (c.client_id.empty() || !is_http(c.authorization_endpoint) || !is_http(c.token_endpoint)) {
        out.failure = failure(Failure::Kind::bad_answer, resp.status,
                              "the login configuration (cli_config) lacks client_id or an http(s) endpoint");
        return out;
    }
    out.value = std::move(c);
    return out;
}

std::string authorization_url(const CliConfig& config, std::string_view redirect_uri, std::string_view state,
                              std::string_view challenge) {
    // authlib's parameter order, appended to a query the endpoint may already have.
    std::string url = config.authorization_endpoint;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += "response_type=code&client_id=" + percent_encode(config.client_id) +
           "&redirect_uri=" + percent_encode(redirect_uri) + "&scope=" + percent_encode(kScopes) +
           "&state=" + percent_encode(state) + "&code_challenge=" + percent_encode(challenge) +
           "&code_challenge_method=S256";
    return url;
}

Result<Tokens> exchange_code(http::Transport& transport, const CliConfig& config, std::string_view code,
                             std::string_view redirect_uri, std::string_view verifier,
                             std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
    return token_request(transport, config,
                         {{"grant_type", "authorization_code"},
                          {"code", std::string(code)},
                          {"redirect_uri", std::string(redirect_uri)},
                          {"code_verifier", std::string(verifier)},
                          {"client_id", config.client_id}},
                         timeout, "", cancel);
}

Result<Tokens> refresh_tokens(http::Transport& transport, const CliConfig& config, const std::string& refresh_token,
                              std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
    return token_request(
        transport, config,
        {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}, {"client_id", config.client_id}}, timeout,
        refresh_token, cancel);
}

std::optional<WhoAmI> parse_whoami(std::string_view body) {
    rapidjson::Document doc;
    if (!parse_object(body, doc)) return std::nullopt;
    auto data = doc.FindMember("data");
    if (data == doc.MemberEnd() || !data->value.IsObject()) return std::nullopt;
    const rapidjson::Value& d = data->value;
    WhoAmI who;
    auto account = string_member(d, "account_id");
    auto email = string_member(d, "email");
    if (!account || !email) return std::nullopt;
    who.account_id = std::move(*account);
    who.email = std::move(*email);
    auto flag = [](const rapidjson::Value& item) {
        auto it = item.FindMember("is_default");
        return it != item.MemberEnd() && it->value.IsBool() && it->value.GetBool();
    };
    if (auto orgs = d.FindMember("organizations"); orgs != d.MemberEnd() && !orgs->value.IsNull()) {
        if (!orgs->value.IsArray()) return std::nullopt;
        for (const auto& item : orgs->value.GetArray()) {
            // pydantic's AliasChoices("org_id", "organization_id"): the first present wins.
            auto id = string_member(item, "org_id");
            if (!id) id = string_member(item, "organization_id");
            auto name = string_member(item, "name");
            if (!id || !name) return std::nullopt;
            who.organizations.push_back({std::move(*id), std::move(*name), flag(item)});
        }
    }
    if (auto projects = d.FindMember("projects"); projects != d.MemberEnd() && !projects->value.IsNull()) {
        if (!projects->value.IsArray()) return std::nullopt;
        for (const auto& item : projects->value.GetArray()) {
            auto id = string_member(item, "project_id");
            auto name = string_member(item, "name");
            if (!id || !name) return std::nullopt;
            who.projects.push_back({std::move(*id), std::move(*name), flag(item)});
        }
    }
    return who;
}

Result<WhoAmI> fetch_whoami(http::Transport& transport, const std::string& coordinator,
                            const std::string& access_token, std::chrono::milliseconds timeout,
                            const std::atomic<bool>* cancel) {
    Result<WhoAmI> out;
    http::Request req = coordinator_request(coordinator + "/api/v1/auth/whoami", timeout, cancel);
    req.headers.insert(req.headers.begin(), {"Authorization", "Bearer " + access_token});
    http::Response resp = transport.send(req);
    if (auto bad = check(resp, "whoami")) {
        out.failure = std::move(*bad);
        return out;
    }
    out.value = parse_whoami(resp.body);
    if (!out.value) out.failure = failure(Failure::Kind::bad_answer, resp.status, "whoami's answer is not understood");
    return out;
}

std::optional<LoginContext> default_context(const WhoAmI& who, std::string& problem) {
    auto pick = [](const auto& items) -> const auto* {
        using Item = std::decay_t<decltype(items.front())>;
        const Item* chosen = nullptr;
        for (const auto& item : items)
            if (item.is_default) return &item;
        if (!items.empty()) chosen = &items.front();
        return chosen;
    };
    const Organization* org = pick(who.organizations);
    if (!org) {
        problem = "No organizations found for your account. Please contact support@arcade.dev for assistance.";
        return std::nullopt;
    }
    const Project* project = pick(who.projects);
    if (!project) {
        problem = fmt::format("No projects found in organization '{}'. "
                              "Please contact support@arcade.dev for assistance.",
                              org->name);
        return std::nullopt;
    }
    return LoginContext{org->id, org->name, project->id, project->name};
}

// ---------------------------------------------------------------------------
// Expiry

std::string expires_at_after(std::int64_t now_ms, std::int64_t seconds) {
    std::int64_t at_us = now_ms * 1000 + seconds * 1000000;
    std::time_t secs = static_cast<std::time_t>(at_us / 1000000);
    auto micros = static_cast<long>(at_us % 1000000);
    std::tm local{};
    ::localtime_r(&secs, &local);
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", local.tm_year + 1900, local.tm_mon + 1,
                                  local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
    // Python's isoformat() leaves out a zero fraction.
    if (micros != 0) out += fmt::format(".{:06}", micros);
    return out;
}

bool expires_soon(const std::string& expires_at, std::int64_t now_ms) {
    // pydantic reads "YYYY-MM-DD[T ]HH:MM[:SS[.f]]" with an optional zone,
    // which `.replace(tzinfo=None)` then drops: the wall-clock fields are
    // compared with the local wall clock.
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char sep = 0;
    int consumed = 0;
    if (std::sscanf(expires_at.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &consumed) != 6 ||
        (sep != 'T' && sep != 't' && sep != ' '))
        return true;
    std::string rest = expires_at.substr(static_cast<std::size_t>(consumed));
    if (rest.size() >= 3 && rest[0] == ':') {
        if (std::sscanf(rest.c_str() + 1, "%2d", &s) != 1) return true;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1) return true;
    std::tm local{};
    local.tm_year = y - 1900;
    local.tm_mon = mo - 1;
    local.tm_mday = d;
    local.tm_hour = h;
    local.tm_min = mi;
    local.tm_sec = s;
    local.tm_isdst = -1;
    std::time_t at = ::mktime(&local);
    if (at == static_cast<std::time_t>(-1)) return true;
    // Whole seconds are enough against a five-minute margin.
    return now_ms / 1000 >= static_cast<std::int64_t>(at) - kExpiryMargin.count();
}

Result<Credentials> fresh_login(http::Transport& transport, const Credentials& creds, std::int64_t now_ms,
                                std::chrono::milliseconds timeout, bool* refreshed,
                                const std::atomic<bool>* cancel) {
    Result<Credentials> out;
    if (refreshed) *refreshed = false;
    if (!creds.oauth || !expires_soon(creds.oauth->expires_at, now_ms)) {
        out.value = creds;
        return out;
    }
    const std::string coordinator =
        creds.oauth->coordinator_url.empty() ? std::string(kDefaultCoordinator) : creds.oauth->coordinator_url;
    auto config = fetch_cli_config(transport, coordinator, timeout, cancel);
    if (!config) {
        out.failure = std::move(config.failure);
        return out;
    }
    auto tokens = refresh_tokens(transport, *config.value, creds.oauth->refresh_token, timeout, cancel);
    if (!tokens) {
        out.failure = std::move(tokens.failure);
        return out;
    }
    Credentials next = creds;
    next.oauth->coordinator_url = coordinator;
    next.oauth->access_token = tokens.value->access_token;
    next.oauth->refresh_token = tokens.value->refresh_token;
    next.oauth->expires_at = expires_at_after(now_ms, tokens.value->expires_in);
    if (refreshed) *refreshed = true;
    out.value = std::move(next);
    return out;
}

}  // namespace arcade::cloud
