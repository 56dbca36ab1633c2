#pragma once
// HTTP status codes as words, for the status lines arcade writes (the login
// callback server) and the errors it prints, and which of them are worth
// asking again. Pure; thread-safe.

#include <string_view>

namespace arcade::http {

// The standard reason phrase for `status` ("Not Found"), or "" when unknown.
std::string_view reason_phrase(int status);

// Whether an answer with `status` may go away by itself: 408 Request
// Timeout, 429 Too Many Requests and every 5xx. Both the shipper and the
// worker API clients retry these.
bool is_transient_status(int status);

}  // namespace arcade::http
