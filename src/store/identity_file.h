#pragma once
// `usage.json`, the identity projection shared with the Python Arcade CLI:
// exactly {"anon_id": "<uuid>", "linked_principal_id": null | "<id>"} with a
// 2-space indent, non-ASCII escaped, no trailing newline (Python's
// json.dump(indent=2)). The journal is the source of truth; this file is
// rewritten from it.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace arcade::store {

struct Identity {
    std::string anon_id;
    std::optional<std::string> principal_id;
    bool operator==(const Identity&) const = default;
};

// Parses usage.json text as leniently as the Python CLI reads it (SPEC §4):
// any JSON object with a usable `anon_id` (a string, or an integer taken as
// its decimal text); a missing, null or unusable `linked_principal_id` is
// null. nullopt for anything else.
std::optional<Identity> parse_identity_json(std::string_view text);
// The exact bytes to write for `id`.
std::string format_identity_json(const Identity& id);
// Reads the file (never following a symlink, at most 64 KiB).
std::optional<Identity> read_identity_file(const std::filesystem::path& path);
// True when `id` is one PostHog refuses to merge (empty, `null`, `anonymous`, `0`, …).
bool is_refused_distinct_id(std::string_view id);
// True when `id` may be an anonymous id or a principal: non-empty, at most
// 200 bytes (PostHog truncates there), valid UTF-8, not refused.
bool is_usable_distinct_id(std::string_view id);

}  // namespace arcade::store
