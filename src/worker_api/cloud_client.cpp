#include "worker_api/cloud_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/url_codec.h"
#include "worker_api/http_call.h"

namespace arcade::worker_api {

namespace {

constexpr const char* kService = "Arcade Cloud";

// Keeps the start of a streamed body so a non-2xx answer can still be
// explained with the server's message.
constexpr std::size_t kErrorBodyBytes = 64 * 1024;

}  // namespace

CloudClient::CloudClient(http::Transport& transport, ClientConfig config)
    : transport_(transport), config_(std::move(config)) {}

ApiResult<std::vector<CloudWorker>> CloudClient::list_workers() {
    std::vector<CloudWorker> workers;
    const int limit = std::max(1, config_.page_size);
    for (int page = 0; page < kMaxPages; ++page) {
        std::string url = fmt::format("{}/api/v1/workers", config_.base_url);
        if (page > 0) url += fmt::format("?offset={}&limit={}", workers.size(), limit);
        detail::Call call{kService, "GET", url};
        auto sent = detail::send_idempotent(transport_, config_, call, detail::make_request(config_, call, bearer()));
        if (!sent) return sent.error();

        rapidjson::Document doc;
        if (!detail::parse_json(sent.value().body, doc) || !doc.IsObject())
            return detail::bad_response(call, "the body is not a JSON object");
        const auto* data = detail::member(doc, "data");
        const auto* list = data ? detail::member(*data, "workers") : nullptr;
        if (!list || !list->IsArray()) return detail::bad_response(call, "no \"data.workers\" array");

        for (const auto& item : list->GetArray()) {
            auto name = detail::string_member(item, "name");
            if (!name || name->empty()) continue;
            workers.push_back(CloudWorker{std::move(*name), detail::string_member(item, "endpoint").value_or("")});
        }
        auto total = detail::integer_member(*data, "total_count");
        if (list->Size() == 0 || !total || static_cast<long long>(workers.size()) >= *total) break;
    }
    return workers;
}

ApiResult<Done> CloudClient::delete_deployment(std::string_view worker_id) {
    detail::Call call{kService, "DELETE",
                      fmt::format("{}/api/v1/workers/{}", config_.base_url, percent_encode(worker_id))};
    auto sent = detail::send(transport_, call, detail::make_request(config_, call, bearer()));
    if (!sent) return sent.error();
    return Done{};
}

ApiResult<StreamEnd> CloudClient::stream_logs(std::string_view worker_id, const EventHandler& on_event) {
    return stream_logs_from(fmt::format("{}/api/v1/workers/logs/{}", config_.base_url, percent_encode(worker_id)),
                            on_event);
}

ApiResult<StreamEnd> CloudClient::stream_logs_from(const std::string& url, const EventHandler& on_event) {
    detail::Call call{kService, "GET", url};
    http::Request req = detail::make_request(config_, call, bearer());
    req.headers = {{"Authorization", bearer()}, {"Accept", "text/event-stream"}, {"Cache-Control", "no-cache"}};
    req.timeout = std::chrono::milliseconds{0};

    // Opening the stream is retried like any idempotent call, but never once
    // an event was handed on: the user would see lines twice.
    bool delivered = false;
    return detail::with_retries(
        config_,
        [&](std::chrono::milliseconds) -> ApiResult<StreamEnd> {
            SseParser parser;
            std::string head;
            bool stopped = false;
            http::Response resp = transport_.stream(req, [&](std::string_view chunk) {
                if (head.size() < kErrorBodyBytes) head.append(chunk.substr(0, kErrorBodyBytes - head.size()));
                if (config_.cancel && config_.cancel->load()) return false;
                for (const auto& event : parser.feed(chunk)) {
                    delivered = true;
                    if (!on_event(event)) {
                        stopped = true;
                        return false;
                    }
                }
                return true;
            });

            if (resp.failure == http::Failure::cancelled || (config_.cancel && config_.cancel->load())) {
                ApiError err = detail::transport_error(call, resp);
                err.kind = ErrorKind::cancelled;
                return err;
            }
            if (resp.transport_failed()) return detail::transport_error(call, resp);
            if (!resp.ok()) return detail::status_error(call, resp.status, head);
            return stopped ? StreamEnd::stopped : StreamEnd::closed;
        },
        [&] { return !delivered; });
}

}  // namespace arcade::worker_api
