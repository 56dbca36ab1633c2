#include "worker_api/engine_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "core/url_codec.h"
#include "worker_api/http_call.h"

namespace arcade::worker_api {

namespace {

constexpr const char* kService = "Arcade Engine";

using ItemFn = std::function<void(const rapidjson::Value&)>;

// Walks every page of a `{items, offset, limit, total_count}` listing.
ApiResult<Done> for_each_item(http::Transport& transport, const ClientConfig& config, const std::string& path,
                              const ItemFn& on_item) {
    const int limit = std::max(1, config.page_size);
    long long offset = 0;
    rapidjson::Document previous_first;  // the first item of the previous page
    for (int page = 0; page < EngineClient::kMaxPages; ++page) {
        detail::Call call{kService, "GET", fmt::format("{}{}?limit={}&offset={}", config.base_url, path, limit, offset)};
        auto sent = detail::send_idempotent(transport, config, call, detail::make_request(config, call, config.api_key));
        if (!sent) return sent.error();

        rapidjson::Document doc;
        if (!detail::parse_json(sent.value().body, doc) || !doc.IsObject())
            return detail::bad_response(call, "the body is not a JSON object");
        const auto* items = detail::member(doc, "items");
        if (!items || !items->IsArray()) return detail::bad_response(call, "no \"items\" array in the page");
        // A server that ignores `offset` would hand out its first page forever.
        if (auto echoed = detail::integer_member(doc, "offset"); echoed && *echoed != offset) break;
        if (!items->Empty()) {
            if (page > 0 && previous_first == (*items)[0]) break;
            previous_first.CopyFrom((*items)[0], previous_first.GetAllocator());
        }

        for (const auto& item : items->GetArray()) on_item(item);
        const auto count = static_cast<long long>(items->Size());
        if (count == 0) break;
        offset += count;
        if (auto total = detail::integer_member(doc, "total_count")) {
            if (offset >= *total) break;
        } else if (count < limit) {
            break;
        }
    }
    return Done{};
}

std::string nested_string(const rapidjson::Value& obj, const char* outer, const char* inner) {
    if (const auto* v = detail::member(obj, outer)) return detail::string_member(*v, inner).value_or("");
    return {};
}

}  // namespace

std::string EngineWorker::uri() const {
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    if (lower == "mcp" && !mcp_uri.empty()) return mcp_uri;
    return http_uri.empty() ? mcp_uri : http_uri;
}

EngineClient::EngineClient(http::Transport& transport, ClientConfig config)
    : transport_(transport), config_(std::move(config)) {}

ApiResult<std::vector<EngineWorker>> EngineClient::list_workers() {
    std::vector<EngineWorker> workers;
    auto walked = for_each_item(transport_, config_, "/v1" + config_.engine_scope + "/workers", [&](const rapidjson::Value& item) {
        auto id = detail::string_member(item, "id");
        if (!id || id->empty()) return;  // the Python CLI skipped these too
        EngineWorker w;
        w.id = std::move(*id);
        w.enabled = detail::bool_member(item, "enabled");
        w.type = detail::string_member(item, "type").value_or("");
        w.http_uri = nested_string(item, "http", "uri");
        w.mcp_uri = nested_string(item, "mcp", "uri");
        w.managed = detail::bool_member(item, "managed");
        workers.push_back(std::move(w));
    });
    if (!walked) return walked.error();
    return workers;
}

ApiResult<std::vector<std::string>> EngineClient::list_toolkits(std::string_view worker_id) {
    std::vector<std::string> toolkits;
    std::string path = fmt::format("/v1{}/workers/{}/tools", config_.engine_scope, percent_encode(worker_id));
    auto walked = for_each_item(transport_, config_, path, [&](const rapidjson::Value& item) {
        std::string name = nested_string(item, "toolkit", "name");
        if (name.empty()) return;
        if (std::find(toolkits.begin(), toolkits.end(), name) == toolkits.end()) toolkits.push_back(std::move(name));
    });
    if (!walked) return walked.error();
    return toolkits;
}

ApiResult<Done> EngineClient::set_enabled(std::string_view worker_id, bool enabled) {
    detail::Call call{kService, "PATCH",
                      fmt::format("{}/v1{}/workers/{}", config_.base_url, config_.engine_scope, percent_encode(worker_id))};
    http::Request req = detail::make_request(config_, call, config_.api_key);
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = enabled ? R"({"enabled":true})" : R"({"enabled":false})";
    // Setting an absolute value is idempotent: safe to send again.
    auto sent = detail::send_idempotent(transport_, config_, call, std::move(req));
    if (!sent) return sent.error();
    return Done{};
}

ApiResult<Done> EngineClient::remove_worker(std::string_view worker_id) {
    detail::Call call{kService, "DELETE",
                      fmt::format("{}/v1{}/workers/{}", config_.base_url, config_.engine_scope, percent_encode(worker_id))};
    auto sent = detail::send(transport_, call, detail::make_request(config_, call, config_.api_key));
    if (!sent) return sent.error();
    return Done{};
}

}  // namespace arcade::worker_api
