#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "core/unique_fd.h"
#include "core/uuid.h"

namespace arcade {

ReadResult read_file_nofollow(const std::filesystem::path& path, std::size_t max_bytes) {
    return read_file_nofollow_at(AT_FDCWD, path.c_str(), max_bytes);
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

ReadResult read_file_nofollow_at(int dir_fd, const char* name, std::size_t max_bytes) {
    ReadResult result;
    int fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        result.status = (errno == ENOENT || errno == ENOTDIR) ? ReadStatus::missing
                        : errno == ELOOP                      ? ReadStatus::not_regular
                                                              : ReadStatus::error;
        return result;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        result.status = ReadStatus::not_regular;
        return result;
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        ::close(fd);
        result.status = ReadStatus::too_large;
        return result;
    }
    std::string data;
    data.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    for (;;) {
        if (used == data.size()) {
            if (data.size() > max_bytes) {  // grew while we read
                ::close(fd);
                result.status = ReadStatus::too_large;
                return result;
            }
            data.resize(data.size() * 2 + 64);
        }
        ssize_t n = ::read(fd, data.data() + used, data.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            result.status = ReadStatus::error;
            return result;
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (used > max_bytes) {
        result.status = ReadStatus::too_large;
        return result;
    }
    data.resize(used);
    result.status = ReadStatus::ok;
    result.data = std::move(data);
    return result;
}

bool ensure_private_dir(const std::filesystem::path& dir, Parents parents) {
    std::error_code ec;
    struct stat link {};
    if (::lstat(dir.c_str(), &link) != 0) {
        if (errno != ENOENT) return false;
        if (!dir.parent_path().empty() && dir.parent_path() != dir &&
            !std::filesystem::is_directory(dir.parent_path(), ec)) {
            if (parents == Parents::must_exist) return false;
            std::filesystem::create_directories(dir.parent_path(), ec);
            if (ec) return false;
        }
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
        if (::lstat(dir.c_str(), &link) != 0) return false;
    }
    if (S_ISLNK(link.st_mode) && link.st_uid != ::getuid()) return false;  // someone else's link: never through it
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
    return fd.valid() && claim_private_dir(fd.get());
}

bool claim_private_dir(int dir_fd) {
    struct stat st {};
    if (::fstat(dir_fd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) return false;
    return (st.st_mode & 077) == 0 || ::fchmod(dir_fd, 0700) == 0;
}

AtomicFile::AtomicFile(std::filesystem::path target, unsigned mode) : target_(std::move(target)) {
    temp_ = target_;
    temp_ += ".tmp-" + uuid_v4().substr(0, 8);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd_ >= 0) ::fchmod(fd_, static_cast<mode_t>(mode));  // umask must not widen or narrow it
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && fd_ >= 0) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view data) {
    if (ok() && !write_all(fd_, data)) failed_ = true;
}

bool AtomicFile::commit() {
    if (!ok() || committed_) return false;
    if (::fsync(fd_) != 0) failed_ = true;
    if (failed_) return false;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        failed_ = true;
        return false;
    }
    committed_ = true;
    auto dir = target_.parent_path();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

bool write_file_atomic(const std::filesystem::path& path, std::string_view data, unsigned mode) {
    AtomicFile file(path, mode);
    file.write(data);
    return file.commit();
}

bool is_racy_signature(std::string_view signature) { return signature.substr(0, 5) == "racy:"; }

std::string file_signature(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "none";
    // File times come from a coarse clock (a few ms; whole seconds on some
    // file systems): a file rewritten with the same size within one tick of
    // being read would look unchanged. As git does with its index, a file
    // changed that recently is "racy": its signature is never trusted later
    // (is_racy_signature), so it is read again.
    timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    auto ns = [](const timespec& t) { return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec; };
    const bool whole_seconds = st.st_mtim.tv_nsec == 0 && st.st_ctim.tv_nsec == 0;
    const long long window = whole_seconds ? 2'000'000'000LL : 50'000'000LL;
    const bool racy = ns(now) - ns(st.st_mtim) < window || ns(now) - ns(st.st_ctim) < window;
    return std::string(racy ? "racy:" : "") + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
           std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

}  // namespace arcade
