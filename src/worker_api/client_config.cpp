#include "worker_api/client_config.h"

#include "core/build_info.h"

namespace arcade::worker_api {

std::string user_agent() { return std::string(build::kLibName) + "/" + build::kVersion; }

}  // namespace arcade::worker_api
