#pragma once
// The boring twin of the dlopened libcurl (see curl_transport.cpp): the same
// transport over a libcurl linked the ordinary way. Library
// arcade_http_linked; the transport tests run it beside the real one, and a
// build that drops the dlopen trick can use it as is.

#include <memory>
#include <string>

#include "http/transport.h"

namespace arcade::http {

// As make_curl_transport, with libcurl linked into the program.
std::unique_ptr<Transport> make_linked_curl_transport(std::string user_agent = http::user_agent());

}  // namespace arcade::http
