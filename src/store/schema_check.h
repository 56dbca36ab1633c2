#pragma once
// Recognises a journal that another program changed (SPEC §7): its schema
// holds a table, index, view or trigger that this program's migrations
// (migrations/*.sql, embedded) do not make, or lacks one they do. Such a
// journal is foreign: opening it is refused, so tracking is off with the
// reason shown, and no statement of ours ever runs a trigger we did not write.
// Only src/store/ includes this file (it exposes SQLiteCpp).

#include <SQLiteCpp/SQLiteCpp.h>

#include <functional>
#include <optional>
#include <string>

namespace arcade::store {

// Why the schema of `db` (migrated to the latest version) is not ours, or
// empty when it is. Cheap on the common path: the full comparison runs only
// when SQLite's schema cookie (PRAGMA schema_version, bumped by every schema
// change) differs from the one last found to be ours, kept in `settings`
// (key `journal.schema_checked`). The cookie is read with `read_setting` and
// stored with `record_setting` (empty: this opening may not write), the
// journal's own prepared statements; a missing settings table makes the read
// throw SQLite::Exception, which counts as no cookie, and a refused write
// (busy, read-only) leaves the comparison to the next open. Throws
// SQLite::Exception when the journal cannot be read.
using SettingReader = std::function<std::optional<std::string>(const char* key)>;
using SettingRecorder = std::function<void(const char* key, const std::string& value)>;
std::string foreign_schema(SQLite::Database& db, const SettingReader& read_setting,
                           const SettingRecorder& record_setting);

// The schema objects the embedded migrations make, one "type name on table"
// per line, sorted: what foreign_schema compares against. Built once per
// process by applying every migration to an in-memory database.
const std::string& expected_schema();

}  // namespace arcade::store
