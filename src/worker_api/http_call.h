#pragma once
// Internal to worker_api: one HTTP call with the project's error mapping, and
// the JSON reading helpers the clients share. Not for use outside this folder.

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/transport.h"
#include "worker_api/api_error.h"
#include "worker_api/client_config.h"

namespace arcade::worker_api::detail {

struct Call {
    std::string service;  // "Arcade Engine" / "Arcade Cloud", for messages
    std::string method;
    std::string url;
};

// The request for `call` with the config's timeouts, cancel flag and the
// given Authorization value, plus `Accept: application/json`.
http::Request make_request(const ClientConfig& config, const Call& call, std::string authorization);

// Sends `req`; transport failures and non-2xx statuses become an ApiError.
ApiResult<http::Response> send(http::Transport& transport, const Call& call, const http::Request& req);

// Waits `delay`, or less when `cancel` is raised; false when it was.
bool wait_unless_cancelled(std::chrono::milliseconds delay, const std::atomic<bool>* cancel);

// Runs `attempt` (one try of an idempotent call, given the time left of the
// call's budget: config.timeouts.request from the first try) and tries again
// while config.retry allows and `may_retry` (when given) agrees. A Ctrl-C
// during a wait ends the call as ErrorKind::cancelled.
template <typename Attempt>
auto with_retries(const ClientConfig& config, Attempt&& attempt, const std::function<bool()>& may_retry = {})
    -> decltype(attempt(std::chrono::milliseconds{})) {
    using std::chrono::milliseconds;
    const auto deadline = std::chrono::steady_clock::now() + config.timeouts.request;
    auto left = [&] {
        return std::max(milliseconds{0},
                        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()));
    };
    for (int retry = 1;; ++retry) {
        auto result = attempt(left());
        if (result || (may_retry && !may_retry())) return result;
        auto delay = config.retry.delay_before(retry, result.error(), left());
        if (!delay) return result;
        if (!wait_unless_cancelled(*delay, config.cancel)) {
            ApiError cancelled = result.error();
            cancelled.kind = ErrorKind::cancelled;
            return cancelled;
        }
    }
}

// send() for an idempotent call, retried as with_retries says; each try's
// time limit is what is left of the budget.
ApiResult<http::Response> send_idempotent(http::Transport& transport, const ClientConfig& config, const Call& call,
                                          http::Request req);

// The ApiError for a response that failed at the transport level.
ApiError transport_error(const Call& call, const http::Response& resp);
// The ApiError for a non-2xx `status` whose body was `body`: the server's
// `message` (or `error`, `detail`) and `name` when the body is JSON.
ApiError status_error(const Call& call, int status, std::string_view body);
ApiError bad_response(const Call& call, std::string message);

// True when `body` is valid JSON, which is then in `doc`.
bool parse_json(std::string_view body, rapidjson::Document& doc);

// Typed, assertion-free field access: nullopt unless `obj` is an object whose
// member `key` has the wanted type.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* key);
std::optional<std::string> string_member(const rapidjson::Value& obj, const char* key);
std::optional<bool> bool_member(const rapidjson::Value& obj, const char* key);
std::optional<long long> integer_member(const rapidjson::Value& obj, const char* key);

}  // namespace arcade::worker_api::detail
