#pragma once
// The Arcade Cloud's worker deployment API. Owns the wire format below;
// callers get plain structs and ApiResult. Not thread-safe.
//
// Wire format (every request carries `Authorization: Bearer <api key>`):
//   GET    /api/v1/workers        -> {"data": {"workers": [{"name", "endpoint", ...}]}}
//          The deployment's `name` is the worker id. When `data` also carries
//          `total_count` larger than the workers received, the next page is
//          asked for with `?offset=O&limit=L` (the first request has no
//          query, as the Python CLI sent it).
//   DELETE /api/v1/workers/{id}   -> 2xx; 404 when there is no deployment
//   GET    /api/v1/workers/logs/{id}   text/event-stream (see sse_parser.h):
//          `data:` events carry log lines, `data: [DONE]` ends the stream,
//          `event: error` reports that the logs cannot be streamed.
//   errors: non-2xx, usually with a JSON `message`.
// The listing and the opening of a log stream are retried as
// ClientConfig::retry says; a deletion, and a stream that has delivered
// events, are not.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/transport.h"
#include "worker_api/api_error.h"
#include "worker_api/client_config.h"
#include "worker_api/sse_parser.h"

namespace arcade::worker_api {

struct CloudWorker {
    std::string name;  // the worker id
    std::string endpoint;
};

// How a log stream ended when it did not fail.
enum class StreamEnd {
    stopped,  // the event handler returned false
    closed,   // the server ended the response
};

// Receives each event as soon as it is complete; return false to stop.
using EventHandler = std::function<bool(const SseEvent&)>;

class CloudClient {
public:
    // `transport` must outlive the client.
    CloudClient(http::Transport& transport, ClientConfig config);

    // Every deployed worker, in server order.
    ApiResult<std::vector<CloudWorker>> list_workers();
    // Deletes the worker's Cloud deployment (404: ApiError with status 404).
    ApiResult<Done> delete_deployment(std::string_view worker_id);
    // Streams the worker's logs to `on_event` as they arrive. No total time
    // limit; cancellation through ClientConfig::cancel (ErrorKind::cancelled).
    // A non-2xx status is an ApiError with the server's message.
    ApiResult<StreamEnd> stream_logs(std::string_view worker_id, const EventHandler& on_event);
    // The same stream from a full URL: an OAuth login's Engine deployment
    // logs (`/v1/orgs/{org}/projects/{project}/deployments/{id}/logs/stream`,
    // which also takes `Bearer <access token>`).
    ApiResult<StreamEnd> stream_logs_from(const std::string& url, const EventHandler& on_event);

    const std::string& base_url() const { return config_.base_url; }

    static constexpr int kMaxPages = 1000;

private:
    std::string bearer() const { return "Bearer " + config_.api_key; }

    http::Transport& transport_;
    ClientConfig config_;
};

}  // namespace arcade::worker_api
