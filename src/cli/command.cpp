#include "cli/command.h"

#include <ostream>

namespace arcade::cli {

int Context::fail(const std::string& message, int exit_code) {
    io_.err << message << "\n";
    error_ = message;
    return exit_code;
}

}  // namespace arcade::cli
