#include "work_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace arcade::testing {

TempWorkDir::TempWorkDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/arcade-worker-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
}

TempWorkDir::~TempWorkDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void TempWorkDir::write_credentials(const std::string& api_key, const std::string& email) const {
    std::filesystem::path dir = config_dir();
    ::mkdir(dir.c_str(), 0700);
    std::string text = "cloud:\n  api:\n    key: " + api_key + "\n  user:\n    email: " + email + "\n";
    std::filesystem::path file = dir / "credentials.yaml";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + file.string());
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("short write to " + file.string());
}

}  // namespace arcade::testing
