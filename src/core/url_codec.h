#pragma once
// Percent-encoding (RFC 3986) and query strings, once for the whole program:
// ids placed in request paths, values in the login URL, the login callback's
// query. Pure functions; never throw.

#include <map>
#include <string>
#include <string_view>

namespace arcade {

// Everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
// becomes `%XX` (upper case), so the result is safe as one path segment or
// one query value: an id can never change the path it is placed in.
std::string percent_encode(std::string_view text);

// Decodes one query-string component: `%XX` (either hex case) becomes that
// byte and `+` a space; a `%` not followed by two hex digits is kept as is,
// as browsers and Python's urllib do.
std::string percent_decode(std::string_view text);

// Decodes `%XX` (either hex case) only: `+` and a `%` not followed by two
// hex digits are kept as they are. For text that is not a query component
// (an error message quoting a URL).
std::string percent_decode_escapes(std::string_view text);

// `bytes` as unpadded base64url (RFC 4648 §5): PKCE values, login states.
std::string base64url(std::string_view bytes);

// Parses `a=1&b=2` (without the `?`) into decoded key/value pairs. Empty
// segments are skipped, a key without `=` gets an empty value, and the first
// occurrence of a repeated key wins.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace arcade
