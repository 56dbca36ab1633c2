#include "core/random_token.h"

#include <sys/random.h>

#include <cerrno>

#include "core/url_codec.h"

namespace arcade {

std::optional<std::string> random_urlsafe(std::size_t n) {
    std::string bytes(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::getrandom(bytes.data() + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;  // no weaker fallback: these values are the login's secrets
        }
        got += static_cast<std::size_t>(r);
    }
    return base64url(bytes);
}

}  // namespace arcade
