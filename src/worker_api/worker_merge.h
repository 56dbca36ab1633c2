#pragma once
// The joined view `arcade worker list` shows: Engine registrations and Cloud
// deployments matched by worker id (a deployment's `name`). Pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "worker_api/cloud_client.h"
#include "worker_api/engine_client.h"

namespace arcade::worker_api {

struct WorkerSummary {
    std::string id;
    // nullopt when the Cloud could not be asked (its listing failed).
    std::optional<bool> cloud_deployed;
    bool engine_registered = false;
    std::optional<bool> enabled;  // nullopt unless registered, or when the Engine did not say
    std::string type;             // the Engine's type, empty unless registered
    std::optional<bool> managed;
    std::string engine_uri;      // empty unless registered
    std::string cloud_endpoint;  // empty unless deployed
    // Registered and deployed at different endpoints.
    bool endpoint_mismatch = false;
    // The worker's toolkits; nullopt when they could not be listed. Filled by
    // the caller (merge_workers leaves an empty list).
    std::optional<std::vector<std::string>> toolkits = std::vector<std::string>{};
};

// Engine workers first, in Engine order, then Cloud-only deployments in Cloud
// order. A repeated id (a server that pages inconsistently) keeps its first
// occurrence. `cloud` is nullopt when the Cloud listing failed.
std::vector<WorkerSummary> merge_workers(const std::vector<EngineWorker>& engine,
                                         const std::optional<std::vector<CloudWorker>>& cloud);

// The stable `arcade worker list --json` document: a JSON array (2-space
// indent, trailing newline) with one object per summary, every key always
// present: {"id", "cloud_deployed": bool|null, "engine_registered": bool,
// "enabled": bool|null (null unless registered, or when the Engine did not
// say), "type": str|null, "managed": bool|null,
// "engine_uri": str|null, "cloud_endpoint": str|null,
// "endpoint_mismatch": bool, "toolkits": [str]|null}.
std::string workers_to_json(const std::vector<WorkerSummary>& workers);

// Whether two endpoint URLs name the same place: equal up to ASCII case of
// the scheme and host and trailing slashes.
bool same_endpoint(std::string_view a, std::string_view b);

}  // namespace arcade::worker_api
