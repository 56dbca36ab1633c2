#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace arcade::testing {
namespace {

std::vector<std::string> flatten(const std::map<std::string, std::string>& env) {
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(in_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    auto args = spec.argv;
    auto envs = flatten(spec.env);
    auto argv = pointers(args);
    auto envp = pointers(envs);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (spec.stdin_data) {
            ::dup2(in_pipe[0], 0);
        } else {
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
        }
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::close(in_pipe[0]);
    if (spec.stdin_data) {
        std::string_view data = *spec.stdin_data;
        while (!data.empty()) {
            ssize_t n = ::write(in_pipe[1], data.data(), data.size());
            if (n <= 0) break;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    ::close(in_pipe[1]);

    ProcessResult result;
    auto deadline = std::chrono::steady_clock::now() + spec.timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    bool killed = false;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            killed = true;
            break;
        }
        int r = ::poll(fds, 2, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (killed) result.exit_code = -1;
    else if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
    return result;
}

ProcessResult run_in_terminal(const ProcessSpec& spec, const std::string& typed) {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
    auto args = spec.argv;
    auto envs = flatten(spec.env);
    auto argv = pointers(args);
    auto envp = pointers(envs);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::close(master);
        ::setsid();
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        if (slave > 2) ::close(slave);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(slave);
    if (!typed.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        [[maybe_unused]] auto n = ::write(master, typed.data(), typed.size());
    }
    ProcessResult result;
    auto deadline = std::chrono::steady_clock::now() + spec.timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd fd{master, POLLIN, 0};
        int r = ::poll(&fd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        char buf[4096];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO once the child side is closed
        result.out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    return result;
}

int start_process(const ProcessSpec& spec) {
    auto args = spec.argv;
    auto envs = flatten(spec.env);
    auto argv = pointers(args);
    auto envp = pointers(envs);
    pid_t pid = ::fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "arcade-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    // Make read-only test dirs removable again.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec))
            std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::add, ec);
    }
    std::filesystem::remove_all(path_, ec);
}

std::string env_path(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::map<std::string, std::string> arcade_env(const std::filesystem::path& work_dir, const std::string& posthog_url) {
    std::map<std::string, std::string> env;
    env["ARCADE_WORK_DIR"] = work_dir.string();
    env["HOME"] = work_dir.string();
    env["PATH"] = "/usr/bin:/bin";
    env["ARCADE_USAGE_POSTHOG_KEY"] = "phc_test";
    env["ARCADE_USAGE_POSTHOG_HOST"] = posthog_url.empty() ? "http://127.0.0.1:9" : posthog_url;
    env["ARCADE_CLOUD_URL"] = "http://127.0.0.1:9";
    env["ARCADE_ENGINE_URL"] = "http://127.0.0.1:9";
    return env;
}

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

namespace {

int processes_for_work_dir(const std::string& needle) {
    int found = 0;
    const int self = ::getpid();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (std::stoi(name) == self) continue;
        std::string env_block = slurp(entry.path() / "environ");  // "" for zombies and vanished processes
        std::size_t pos = 0;
        while (pos < env_block.size()) {
            std::size_t end = env_block.find('\0', pos);
            if (end == std::string::npos) end = env_block.size();
            if (env_block.compare(pos, end - pos, needle) == 0) {
                ++found;
                break;
            }
            pos = end + 1;
        }
    }
    return found;
}

}  // namespace

bool wait_detached_gone(const std::filesystem::path& work_dir, std::chrono::milliseconds timeout) {
    const std::string needle = "ARCADE_WORK_DIR=" + work_dir.string();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (processes_for_work_dir(needle) > 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace arcade::testing
