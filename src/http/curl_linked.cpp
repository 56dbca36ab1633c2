#include "http/curl_linked.h"

#include "http/curl_api.h"

namespace arcade::http {

namespace {

CurlApi linked_api() {
    CurlApi api;
    api.global_init = &::curl_global_init;
    api.init = &::curl_easy_init;
    api.cleanup = &::curl_easy_cleanup;
    api.reset = &::curl_easy_reset;
    api.setopt = &::curl_easy_setopt;
    api.perform = &::curl_easy_perform;
    api.getinfo = &::curl_easy_getinfo;
    api.strerror = &::curl_easy_strerror;
    api.slist_append = &::curl_slist_append;
    api.slist_free_all = &::curl_slist_free_all;
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) api.error = "libcurl could not be initialised";
    return api;
}

}  // namespace

std::unique_ptr<Transport> make_linked_curl_transport(std::string user_agent) {
    static const CurlApi api = linked_api();
    return make_transport_over(api, std::move(user_agent));
}

}  // namespace arcade::http
