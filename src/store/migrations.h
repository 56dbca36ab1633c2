#pragma once
// The journal's schema as numbered SQL files (migrations/NNN_name.sql),
// embedded at build time and applied in order; PRAGMA user_version records
// the last one applied.

#include <string_view>
#include <vector>

namespace arcade::store {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// All migrations, ascending by version.
const std::vector<Migration>& migrations();

}  // namespace arcade::store
