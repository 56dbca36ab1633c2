#include "shipper/schedule.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/time_format.h"
#include "http/status.h"
#include "store/journal.h"

namespace arcade::shipper {

Verdict classify(const http::Response& r) {
    if (r.transport_failed() || r.status == 0) return Verdict::retry;
    if (r.status >= 200 && r.status < 300) return Verdict::delivered;
    if (http::is_transient_status(r.status)) return Verdict::retry;
    if (r.status == 400 || r.status == 413) return Verdict::split;
    return Verdict::refused;
}

std::chrono::milliseconds RetryPolicy::next_delay(int retry, std::optional<std::chrono::milliseconds> retry_after) const {
    std::chrono::milliseconds delay = first_delay * (std::int64_t{1} << std::clamp(retry - 1, 0, 20));
    if (retry_after) delay = std::max(delay, *retry_after);
    return delay;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v, std::int64_t now_ms) {
    using std::chrono::milliseconds;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    constexpr milliseconds kDay = std::chrono::hours(24);
    if (std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (v.size() > 9) return kDay;
        std::int64_t secs = 0;
        std::from_chars(v.data(), v.data() + v.size(), secs);
        return std::min<milliseconds>(std::chrono::seconds(secs), kDay);
    }
    if (auto at = parse_http_date(v)) return std::clamp(milliseconds(*at - now_ms), milliseconds(0), kDay);
    return std::nullopt;
}

std::chrono::milliseconds next_run_delay(int failures) {
    constexpr std::chrono::milliseconds kBase = std::chrono::seconds(30), kCap = std::chrono::minutes(15);
    if (failures <= 0) return std::chrono::milliseconds(0);
    if (failures > 16) return kCap;
    return std::min(kBase * (std::int64_t{1} << (failures - 1)), kCap);
}

bool backoff_in_force(store::Journal& journal, std::int64_t now_ms) {
    try {
        auto next = journal.next_attempt_ms();
        return next && *next > now_ms;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace arcade::shipper
