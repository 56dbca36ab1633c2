#include "worker_api/http_call.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <thread>

namespace arcade::worker_api::detail {

http::Request make_request(const ClientConfig& config, const Call& call, std::string authorization) {
    http::Request req;
    req.method = call.method;
    req.url = call.url;
    req.headers.emplace_back("Authorization", std::move(authorization));
    req.headers.emplace_back("Accept", "application/json");
    req.timeout = config.timeouts.request;
    req.connect_timeout = config.timeouts.connect;
    req.cancel = config.cancel;
    return req;
}

ApiError transport_error(const Call& call, const http::Response& resp) {
    ApiError err;
    err.service = call.service;
    err.method = call.method;
    err.url = call.url;
    err.message = resp.error;
    switch (resp.failure) {
        case http::Failure::connect: err.kind = ErrorKind::connect; break;
        case http::Failure::timeout: err.kind = ErrorKind::timeout; break;
        case http::Failure::reset: err.kind = ErrorKind::connection_lost; break;
        case http::Failure::cancelled: err.kind = ErrorKind::cancelled; break;
        case http::Failure::none:
        case http::Failure::other: err.kind = ErrorKind::transport; break;
    }
    return err;
}

ApiError status_error(const Call& call, int status, std::string_view body) {
    ApiError err;
    err.kind = ErrorKind::status;
    err.service = call.service;
    err.method = call.method;
    err.url = call.url;
    err.status = status;
    rapidjson::Document doc;
    if (parse_json(body, doc)) {
        for (const char* key : {"message", "error", "detail"}) {
            if (auto text = string_member(doc, key)) {
                err.message = *text;
                break;
            }
        }
        if (err.message.empty()) {
            if (const auto* inner = member(doc, "error")) {
                if (auto text = string_member(*inner, "message")) err.message = *text;
            }
        }
        if (auto name = string_member(doc, "name")) err.name = *name;
    } else if (!body.empty() && body.front() != '<') {
        // A short plain-text body (proxies, load balancers) is still useful;
        // HTML error pages are not.
        err.message = std::string(body.substr(0, 300));
    }
    return err;
}

ApiError bad_response(const Call& call, std::string message) {
    ApiError err;
    err.kind = ErrorKind::bad_response;
    err.service = call.service;
    err.method = call.method;
    err.url = call.url;
    err.message = std::move(message);
    return err;
}

ApiResult<http::Response> send(http::Transport& transport, const Call& call, const http::Request& req) {
    http::Response resp = transport.send(req);
    if (resp.transport_failed()) return transport_error(call, resp);
    if (req.cancel && req.cancel->load()) {
        ApiError err = transport_error(call, resp);
        err.kind = ErrorKind::cancelled;
        return err;
    }
    if (!resp.ok()) return status_error(call, resp.status, resp.body);
    return resp;
}

bool wait_unless_cancelled(std::chrono::milliseconds delay, const std::atomic<bool>* cancel) {
    // Short naps, so that Ctrl-C during a wait is noticed at once.
    constexpr std::chrono::milliseconds kNap{20};
    const auto until = std::chrono::steady_clock::now() + delay;
    for (;;) {
        if (cancel && cancel->load()) return false;
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) return true;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kNap, until - now));
    }
}

ApiResult<http::Response> send_idempotent(http::Transport& transport, const ClientConfig& config, const Call& call,
                                          http::Request req) {
    return with_retries(config, [&](std::chrono::milliseconds left) {
        req.timeout = std::min(req.timeout, left);
        return send(transport, call, req);
    });
}

bool parse_json(std::string_view body, rapidjson::Document& doc) {
    // Iterative: a hostile server's nested brackets must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    return !doc.HasParseError();
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return nullptr;
    return &it->value;
}

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* key) {
    const auto* v = member(obj, key);
    if (!v || !v->IsString()) return std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
}

std::optional<bool> bool_member(const rapidjson::Value& obj, const char* key) {
    const auto* v = member(obj, key);
    if (!v || !v->IsBool()) return std::nullopt;
    return v->GetBool();
}

std::optional<long long> integer_member(const rapidjson::Value& obj, const char* key) {
    const auto* v = member(obj, key);
    if (!v) return std::nullopt;
    if (v->IsInt64()) return static_cast<long long>(v->GetInt64());
    if (v->IsUint64()) return static_cast<long long>(std::min<std::uint64_t>(v->GetUint64(), INT64_MAX));
    return std::nullopt;
}

}  // namespace arcade::worker_api::detail
