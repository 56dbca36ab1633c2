#pragma once
// Careful file access for the config dir: reads and writes that never follow
// a symlink planted at a file path, private (0700/0600) permissions, and an
// atomic replace that publishes only on an explicit commit.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace arcade {

enum class ReadStatus { ok, missing, not_regular, too_large, error };

struct ReadResult {
    ReadStatus status = ReadStatus::error;
    std::string data;  // the content when status == ok
};

// Reads a regular file without following a symlink at `path` (O_NOFOLLOW);
// refuses files larger than `max_bytes`. Never throws.
ReadResult read_file_nofollow(const std::filesystem::path& path, std::size_t max_bytes);
// The same for `name` relative to the open directory `dir_fd` (or AT_FDCWD).
ReadResult read_file_nofollow_at(int dir_fd, const char* name, std::size_t max_bytes);

// Writes all of `data` to `fd`, retrying after signals. False on an error.
bool write_all(int fd, std::string_view data);

// Whether ensure_private_dir may create missing parents of the directory.
enum class Parents { create, must_exist };

// Makes `dir` exist as a private directory of this user (SPEC §2): a new one
// is 0700; an existing one of the user's own is tightened to 0700; one owned
// by someone else, or reached through a symlink someone else owns, is
// refused. With Parents::must_exist (telemetry: it never creates HOME) a
// missing parent is refused too. Returns false (never throws) when it
// cannot, e.g. the path is a file.
bool ensure_private_dir(const std::filesystem::path& dir, Parents parents = Parents::create);

// The ownership rule of ensure_private_dir for a directory already open as
// `dir_fd`: true when it is a directory of this user, tightened to 0700.
bool claim_private_dir(int dir_fd);

// Writes a file by temp-file + fsync + rename in the same directory, so readers
// see the old or the new content, never a mix. The rename replaces whatever is
// at the path (including a symlink) instead of writing through it. Nothing is
// published unless commit() succeeds; the destructor removes an uncommitted
// temp file and never throws.
class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target, unsigned mode = 0600);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    bool ok() const { return fd_ >= 0 && !failed_; }
    void write(std::string_view data);
    // fsync, rename onto the target, fsync the directory. False on any failure.
    bool commit();

private:
    std::filesystem::path target_;
    std::filesystem::path temp_;
    int fd_ = -1;
    bool failed_ = false;
    bool committed_ = false;
};

// What one lstat(2) says about the file at `path`, as text that changes
// whenever the file is replaced or rewritten: device, inode, size, mtime and
// ctime (nanoseconds). "none" when nothing is there. The cheap per-command
// check of files other programs share with us (SPEC §4). Never throws.
std::string file_signature(const std::filesystem::path& path);
// A signature of a file changed so recently (50 ms; 2 s where times are whole seconds) that a later change within
// the same clock tick could keep it: record it as unknown, read again.
bool is_racy_signature(std::string_view signature);

// Convenience: AtomicFile write + commit.
bool write_file_atomic(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);

}  // namespace arcade
