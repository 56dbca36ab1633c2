#pragma once
// The result and error types every worker_api call returns. HTTP failures,
// transport failures and malformed responses all become an ApiError; nothing
// in worker_api throws for them.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace arcade::worker_api {

enum class ErrorKind {
    status,           // the server answered with a non-2xx status
    connect,          // no connection could be made (refused, DNS)
    timeout,          // connect or request time limit reached
    connection_lost,  // the connection broke mid-transfer
    cancelled,        // Request::cancel was raised (Ctrl-C)
    bad_response,     // a 2xx answer whose body is not what the API promises
    transport,        // any other transport failure (TLS, protocol, ...)
};

struct ApiError {
    ErrorKind kind = ErrorKind::transport;
    std::string service;  // "Arcade Engine" or "Arcade Cloud"
    std::string method;
    std::string url;      // the full URL tried
    int status = 0;       // HTTP status for ErrorKind::status, else 0
    std::string message;  // the server's `message`, or the transport's description
    std::string name;     // the server's error `name`, when it sent one

    bool is_status(int code) const { return kind == ErrorKind::status && status == code; }
    // One line for a human: what failed, where, and why. Never contains
    // control characters; the server's message is capped at 300 characters.
    std::string describe() const;
};

// Success marker for calls that return nothing.
struct Done {};

// Either a T or an ApiError. Cheap to move; never throws on the happy path
// (value()/error() on the wrong alternative throw std::bad_variant_access).
template <typename T>
class [[nodiscard]] ApiResult {
public:
    ApiResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
    ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    const ApiError& error() const { return std::get<1>(v_); }

private:
    std::variant<T, ApiError> v_;
};

}  // namespace arcade::worker_api
