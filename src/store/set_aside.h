#pragma once
// Events set aside while another process held the journal's write lock
// longer than a command may wait (SPEC §7). Each is one 0600 JSON file in
// `<config dir>/usage.aside/`, named `<created_ms>-<uuid>.json` so that names
// sort in the order the events happened. A file appears whole or not at all
// (written under a temporary name, then renamed), is never written through a
// symlink, and carries the row exactly as the journal would have stored it,
// uuid and timestamp included. The next writer folds them into the journal
// (Journal::append and Journal::fold_set_aside) and only then removes them;
// a fold that is killed midway is repeated without duplicates, because a row
// whose uuid the journal already holds is skipped. Format: docs/JOURNAL.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/paths.h"
#include "store/journal.h"

namespace arcade::store {

// The folder that holds set-aside events.
std::filesystem::path set_aside_dir(const ConfigPaths& paths);

// Writes `row` as a set-aside event. An empty `anon_id` means the identity
// was unknown (no journal and no usage.json could be read): the fold gives
// the event the identity current then. False (nothing written) when the
// folder or the file cannot be made safely. Never throws.
bool set_aside(const ConfigPaths& paths, const StoredEvent& row);

struct SetAsideEvent {
    std::string file;  // its name inside set_aside_dir
    StoredEvent row;   // seq and state unset
};

// The set-aside events in order; files that are not ours (not regular, not
// parsable) are skipped and left alone. Empty when the folder is missing.
// Never throws.
std::vector<SetAsideEvent> read_set_aside(const ConfigPaths& paths);

// Removes these files, and the folder when it is left empty. Never throws.
void remove_set_aside(const ConfigPaths& paths, const std::vector<std::string>& files);

// How many events are set aside (files a fold would take). Never throws.
std::int64_t count_set_aside(const ConfigPaths& paths);

// Removes every set-aside event and the folder (usage purge). Never throws.
void purge_set_aside(const ConfigPaths& paths);

}  // namespace arcade::store
