#include "store/set_aside.h"

#include <dirent.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <utility>

#include "core/files.h"
#include "core/json_fields.h"
#include "core/unique_fd.h"

namespace arcade::store {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;  // an event is far smaller (PostHog's own limit is ~1 MB)
constexpr const char* kSuffix = ".json";
// A temporary file older than this belongs to a writer that was killed.
constexpr std::chrono::seconds kStaleTemp{60};

// The folder, opened without following a symlink; with `create`, made 0700
// when missing. -1 when it is missing, not a directory of ours, or unsafe.
int open_dir(const ConfigPaths& paths, bool create) {
    const auto dir = set_aside_dir(paths);
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return -1;
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT && create) continue;  // removed by a fold between mkdir and open
            return -1;
        }
        if (!claim_private_dir(fd)) {
            ::close(fd);
            return -1;
        }
        return fd;
    }
    return -1;
}

bool is_event_name(const std::string& name) {
    return name.size() > 5 && name.front() != '.' && name.compare(name.size() - 5, 5, kSuffix) == 0;
}

// The row's text fields, by their key in the file: encode and decode share
// one list, so the two cannot drift apart.
using TextField = std::string StoredEvent::*;
constexpr std::pair<const char*, TextField> kTextFields[] = {
    {"uuid", &StoredEvent::uuid},
    {"timestamp", &StoredEvent::timestamp},
    {"kind", &StoredEvent::kind},
    {"event", &StoredEvent::event},
    {"distinct_id", &StoredEvent::distinct_id},
    {"anon_id", &StoredEvent::anon_id},
    {"properties", &StoredEvent::properties},
};

std::string encode(const StoredEvent& row) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    JsonFields f(w);
    w.StartObject();
    for (const auto& [key, field] : kTextFields) f.str(key, row.*field);
    f.integer("created_ms", row.created_ms);
    f.boolean("needs_identity", row.needs_identity);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::optional<StoredEvent> decode(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    StoredEvent row;
    for (const auto& [key, field] : kTextFields) {
        auto it = doc.FindMember(key);
        if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
        (row.*field).assign(it->value.GetString(), it->value.GetStringLength());
    }
    auto created = doc.FindMember("created_ms");
    auto needs = doc.FindMember("needs_identity");
    if (created == doc.MemberEnd() || !created->value.IsInt64() || needs == doc.MemberEnd() ||
        !needs->value.IsBool())
        return std::nullopt;
    if ((row.kind != "event" && row.kind != "alias") || row.uuid.empty() || row.event.empty()) return std::nullopt;
    row.created_ms = created->value.GetInt64();
    row.needs_identity = needs->value.GetBool();
    row.state = "pending";
    return row;
}

std::vector<std::string> list(int dir_fd) {
    std::vector<std::string> names;
    int fd = ::dup(dir_fd);
    if (fd < 0) return names;
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return names;
    }
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::filesystem::path set_aside_dir(const ConfigPaths& paths) { return paths.dir / "usage.aside"; }

bool set_aside(const ConfigPaths& paths, const StoredEvent& row) {
    UniqueFd dir(open_dir(paths, true));
    if (!dir.valid()) return false;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%013lld", static_cast<long long>(std::max<std::int64_t>(0, row.created_ms)));
    const std::string name = std::string(stamp) + "-" + row.uuid + kSuffix;
    const std::string temp = "." + name + ".tmp";
    int fd = ::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = write_all(fd, encode(row));
    ok = ::close(fd) == 0 && ok;
    // rename replaces whatever is at the final name (a planted symlink
    // included) instead of writing through it.
    ok = ok && ::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) == 0;
    if (!ok) ::unlinkat(dir.get(), temp.c_str(), 0);
    return ok;
}

std::vector<SetAsideEvent> read_set_aside(const ConfigPaths& paths) {
    std::vector<SetAsideEvent> out;
    UniqueFd dir(open_dir(paths, false));
    if (!dir.valid()) return out;
    for (const auto& name : list(dir.get())) {
        if (!is_event_name(name)) continue;
        auto file = read_file_nofollow_at(dir.get(), name.c_str(), kMaxFileBytes);
        if (file.status != ReadStatus::ok) continue;
        if (auto row = decode(file.data)) out.push_back(SetAsideEvent{name, std::move(*row)});
    }
    return out;
}

void remove_set_aside(const ConfigPaths& paths, const std::vector<std::string>& files) {
    UniqueFd dir(open_dir(paths, false));
    if (!dir.valid()) return;
    for (const auto& name : files) ::unlinkat(dir.get(), name.c_str(), 0);
    const auto stale_before = std::time(nullptr) - kStaleTemp.count();
    for (const auto& name : list(dir.get())) {
        struct stat st {};
        if (name.front() == '.' && ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            st.st_mtime < stale_before)
            ::unlinkat(dir.get(), name.c_str(), 0);
    }
    ::rmdir(set_aside_dir(paths).c_str());  // only when empty; a writer may have just added one
}

std::int64_t count_set_aside(const ConfigPaths& paths) {
    // Only events a fold would take: a stranger in the folder must not keep
    // a shipper handing over to successors for ever.
    return static_cast<std::int64_t>(read_set_aside(paths).size());
}

void purge_set_aside(const ConfigPaths& paths) {
    UniqueFd dir(open_dir(paths, false));
    if (!dir.valid()) return;
    for (const auto& name : list(dir.get())) ::unlinkat(dir.get(), name.c_str(), 0);
    ::rmdir(set_aside_dir(paths).c_str());
}

}  // namespace arcade::store
