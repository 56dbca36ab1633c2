#include "store/schema_check.h"

#include <sqlite3.h>

#include <set>
#include <string_view>

#include "store/migrations.h"

namespace arcade::store {
namespace {

constexpr const char* kCheckedKey = "journal.schema_checked";

// Tables, indexes, views and triggers by name, without SQLite's own
// (sqlite_sequence, sqlite_autoindex_*, sqlite_stat*). Names, types and
// tables only, not the SQL text: a comment edited in a migration must not
// make every journal created before it foreign.
std::set<std::string> schema_objects(SQLite::Database& db) {
    std::set<std::string> out;
    SQLite::Statement st(db, "SELECT type, name, tbl_name FROM sqlite_master "
                             "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    while (st.executeStep())
        out.insert(st.getColumn(0).getString() + " " + st.getColumn(1).getString() + " on " +
                   st.getColumn(2).getString());
    return out;
}

std::string joined(const std::set<std::string>& objects) {
    std::string out;
    for (const auto& o : objects) out += o + "\n";
    return out;
}

std::set<std::string> expected_objects() {
    SQLite::Database memory(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& m : migrations()) memory.exec(std::string(m.sql));
    return schema_objects(memory);
}

const std::set<std::string>& expected_set() {
    static const std::set<std::string> objects = expected_objects();
    return objects;
}

}  // namespace

const std::string& expected_schema() {
    static const std::string text = joined(expected_set());
    return text;
}

std::string foreign_schema(SQLite::Database& db, const SettingReader& read_setting,
                           const SettingRecorder& record_setting) {
    const std::string cookie = std::to_string(db.execAndGet("PRAGMA schema_version").getInt64());
    try {
        if (read_setting(kCheckedKey) == cookie) return {};
    } catch (const SQLite::Exception&) {
        // No settings table: the comparison below says what is wrong.
    }

    const std::set<std::string> actual = schema_objects(db);
    const std::set<std::string>& expected = expected_set();
    for (const auto& object : actual)
        if (!expected.count(object))
            return "journal changed by another program (it has " + object +
                   ", which arcade never makes); remove usage.db or run `arcade usage purge` to start afresh";
    for (const auto& object : expected)
        if (!actual.count(object))
            return "journal changed by another program (" + object +
                   " is missing); remove usage.db or run `arcade usage purge` to start afresh";

    if (record_setting) {
        try {
            record_setting(kCheckedKey, cookie);
        } catch (const SQLite::Exception&) {
            // Busy or read-only: the next open compares again.
        }
    }
    return {};
}

}  // namespace arcade::store
