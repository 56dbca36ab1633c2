#pragma once
// HTTP status codes as words, for the status lines arcade writes (the login
// callback server) and the errors it prints. Pure; thread-safe.

#include <string_view>

namespace arcade::http {

// The standard reason phrase for `status` ("Not Found"), or "" when unknown.
std::string_view reason_phrase(int status);

}  // namespace arcade::http
