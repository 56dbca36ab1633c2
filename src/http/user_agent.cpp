#include "core/build_info.h"
#include "http/transport.h"

namespace arcade::http {

std::string user_agent() { return std::string(build::kLibName) + "/" + build::kVersion; }

}  // namespace arcade::http
