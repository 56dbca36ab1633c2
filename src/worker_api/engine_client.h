#pragma once
// The Arcade Engine's worker API. Owns the wire format below; callers get
// plain structs and ApiResult, never JSON or transport types. Not thread-safe
// (one Transport, one call at a time).
//
// Wire format (JSON; every request carries `Authorization: <api key>`, the
// raw key without "Bearer"):
//   GET    /v1/workers?limit=L&offset=O
//          -> {"items": [worker...], "offset": O, "limit": L, "total_count": N}
//          worker: {"id", "enabled", "type", "http": {"uri"}, "mcp": {"uri"},
//                   "managed", "binding": {...}}
//   PATCH  /v1/workers/{id}          body {"enabled": true|false}
//   DELETE /v1/workers/{id}          -> 204
//   GET    /v1/workers/{id}/tools?limit=L&offset=O
//          -> same page shape, items {"name", "toolkit": {"name"}, ...}
//   errors: non-2xx with {"message": "...", "name": "..."}
// Paging follows offset/total_count (or, without total_count, a short page)
// until every item is read. A page with no items, a server that answers a
// different offset than asked or repeats the previous page, or 1000 pages end
// the walk, so a server that never advances cannot loop us forever.
// Listings and set_enabled are retried as ClientConfig::retry says (each page
// on its own); remove_worker is not: a DELETE repeated after a lost answer
// would read its own success as 404.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/transport.h"
#include "worker_api/api_error.h"
#include "worker_api/client_config.h"

namespace arcade::worker_api {

struct EngineWorker {
    std::string id;
    std::optional<bool> enabled;  // nullopt when the Engine did not say
    std::string type;  // "http", "mcp", ... as the Engine reports it
    std::string http_uri;
    std::string mcp_uri;
    std::optional<bool> managed;

    // Where the worker is reached: mcp.uri for MCP workers, else http.uri
    // (falling back to whichever one is set).
    std::string uri() const;
};

class EngineClient {
public:
    // `transport` must outlive the client.
    EngineClient(http::Transport& transport, ClientConfig config);

    // Every registered worker, across all pages, in server order.
    ApiResult<std::vector<EngineWorker>> list_workers();
    // The toolkit names of the worker's tools across all pages, de-duplicated
    // in first-seen order.
    ApiResult<std::vector<std::string>> list_toolkits(std::string_view worker_id);
    ApiResult<Done> set_enabled(std::string_view worker_id, bool enabled);
    ApiResult<Done> remove_worker(std::string_view worker_id);

    const std::string& base_url() const { return config_.base_url; }

    static constexpr int kMaxPages = 1000;

private:
    http::Transport& transport_;
    ClientConfig config_;
};

}  // namespace arcade::worker_api
