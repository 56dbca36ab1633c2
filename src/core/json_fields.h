#pragma once
// `"key": value` pairs written into a rapidjson writer (plain or pretty), one
// call per field: the one way the project spells out the JSON objects it
// makes (events, status, set-aside rows). Header-only; the caller owns the
// writer and opens and closes the outer object.

#include <rapidjson/rapidjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arcade {

template <class Writer>
class JsonFields {
public:
    explicit JsonFields(Writer& w) : w_(w) {}

    void str(const char* key, std::string_view v) {
        w_.Key(key);
        w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    // The value, or null.
    void opt_str(const char* key, const std::optional<std::string>& v) {
        if (v) return str(key, *v);
        w_.Key(key);
        w_.Null();
    }
    void integer(const char* key, std::int64_t v) {
        w_.Key(key);
        w_.Int64(v);
    }
    void number(const char* key, double v) {
        w_.Key(key);
        w_.Double(v);
    }
    void boolean(const char* key, bool v) {
        w_.Key(key);
        w_.Bool(v);
    }
    // `key: {...}` with the fields `body` writes.
    template <class Body>
    void object(const char* key, Body&& body) {
        w_.Key(key);
        w_.StartObject();
        body();
        w_.EndObject();
    }

private:
    Writer& w_;
};

}  // namespace arcade
