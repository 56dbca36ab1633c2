#pragma once
// Internal to src/http: the libcurl entry points the transport calls, as a
// table, so one transport serves two ways of reaching libcurl (a trick and
// its boring twin, STYLE.md):
//  - dlopened_curl() (curl_transport.cpp) loads libcurl.so.4 at first use;
//    what `arcade` and `arcade-ship` use;
//  - linked_curl() (curl_linked.cpp, library arcade_http_linked) takes the
//    symbols of a normally linked libcurl; what the transport tests run too.

#include <curl/curl.h>

#include <memory>
#include <string>

#include "http/transport.h"

namespace arcade::http {

struct CurlApi {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) init = nullptr;
    decltype(&::curl_easy_cleanup) cleanup = nullptr;
    decltype(&::curl_easy_reset) reset = nullptr;
    decltype(&::curl_easy_setopt) setopt = nullptr;
    decltype(&::curl_easy_perform) perform = nullptr;
    decltype(&::curl_easy_getinfo) getinfo = nullptr;
    decltype(&::curl_easy_strerror) strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    std::string error;  // why libcurl cannot be used; empty when usable

    bool usable() const { return error.empty(); }
};

// libcurl loaded with dlopen, once per process (never unloaded).
const CurlApi& dlopened_curl();

// The libcurl transport over `api`, which must outlive it.
std::unique_ptr<Transport> make_transport_over(const CurlApi& api, std::string user_agent);

}  // namespace arcade::http
