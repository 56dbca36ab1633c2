#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

namespace arcade::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds left_until(Clock::time_point deadline) {
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Both ends of a new pipe, close-on-exec (the child gets its end by dup2).
std::pair<FileDescriptor, FileDescriptor> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

FileDescriptor open_dev_null() {
    FileDescriptor fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) throw std::runtime_error("cannot open /dev/null");
    return fd;
}

// Forks and execs `spec` with `stdio` as its fds 0, 1 and 2. With
// `terminal`, the child starts a session whose controlling terminal is
// `stdio[0]`. The signals a test sends (and SIGPIPE, SIGCHLD) get their
// default dispositions and nothing is blocked, whatever the test runner
// ignores or masks. Everything is prepared before fork: after it, only
// async-signal-safe calls.
int spawn(const ProcessSpec& spec, const int (&stdio)[3], bool terminal = false) {
    if (spec.argv.empty()) throw std::runtime_error("no program to run");
    std::vector<std::string> strings = spec.argv;
    for (const auto& [k, v] : spec.env) strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (std::size_t i = 0; i < strings.size(); ++i)
        (i < spec.argv.size() ? argv : envp).push_back(strings[i].data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (terminal) {
            ::setsid();
            ::ioctl(stdio[0], TIOCSCTTY, 0);
        }
        for (int fd = 0; fd < 3; ++fd) ::dup2(stdio[fd], fd);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

// Waits for `pid` to end, calling `idle(at most 20 ms)` meanwhile; SIGKILLs
// it at `deadline`. Records how it ended in `result`.
void reap(int pid, Clock::time_point deadline, const std::function<void(milliseconds)>& idle,
          ProcessResult& result) {
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) != pid) {
        if (Clock::now() >= deadline) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        idle(std::min(left_until(deadline), milliseconds(20)));
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
}

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void FileDescriptor::reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

ChildProcess::ChildProcess(const ProcessSpec& spec) {
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    FileDescriptor in_read, in_write;
    if (spec.stdin_data) std::tie(in_read, in_write) = make_pipe();
    else in_read = open_dev_null();
    pid_ = spawn(spec, {in_read.get(), out_write.get(), err_write.get()});
    out_ = std::move(out_read);
    err_ = std::move(err_read);
    if (spec.stdin_data) {
        std::string_view data = *spec.stdin_data;
        while (!data.empty()) {
            ssize_t n = ::write(in_write.get(), data.data(), data.size());
            if (n <= 0) break;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }
}

ChildProcess::~ChildProcess() {
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

bool ChildProcess::pump(milliseconds wait) {
    pollfd fds[2];
    nfds_t n = 0;
    for (auto* fd : {&out_, &err_})
        if (fd->get() >= 0) fds[n++] = pollfd{fd->get(), POLLIN, 0};
    // With both pipes closed this is a plain sleep, which keeps callers'
    // wait loops from spinning.
    if (::poll(fds, n, static_cast<int>(wait.count())) > 0) {
        for (nfds_t i = 0; i < n; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const bool is_out = fds[i].fd == out_.get();
            char buf[65536];
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) (is_out ? result_.out : result_.err).append(buf, static_cast<std::size_t>(got));
            else if (got == 0 || errno != EINTR) (is_out ? out_ : err_).reset();
        }
    }
    return out_.get() >= 0 || err_.get() >= 0;
}

bool ChildProcess::wait_for_stdout(const std::function<bool(const std::string&)>& done, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!done(result_.out)) {
        auto left = left_until(deadline);
        if (left.count() <= 0) return false;
        if (!pump(std::min(left, milliseconds(50)))) return done(result_.out);
    }
    return true;
}

void ChildProcess::send_signal(int sig) {
    if (!reaped_) ::kill(pid_, sig);
}

ProcessResult ChildProcess::finish(milliseconds timeout) {
    if (reaped_) return result_;
    // Reads while waiting, so a child that writes more than a pipe holds is
    // not stuck until the timeout.
    reap(pid_, Clock::now() + timeout, [this](milliseconds wait) { pump(wait); }, result_);
    reaped_ = true;
    // The exit closes our pipes unless a grandchild (a detached shipper in
    // the moment before it redirects its stdio) kept them: read what is
    // left, but do not wait for such a grandchild.
    auto drain_deadline = Clock::now() + milliseconds(500);
    while (Clock::now() < drain_deadline && pump(milliseconds(20))) {
    }
    return result_;
}

ProcessResult run_process(const ProcessSpec& spec) { return ChildProcess(spec).finish(spec.timeout); }

ProcessResult run_in_terminal(const ProcessSpec& spec, const std::string& typed) {
    int master_fd = -1, slave_fd = -1;
    if (::openpty(&master_fd, &slave_fd, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
    FileDescriptor master(master_fd), slave(slave_fd);
    ::fcntl(master.get(), F_SETFD, FD_CLOEXEC);
    ::fcntl(slave.get(), F_SETFD, FD_CLOEXEC);
    const int pid = spawn(spec, {slave.get(), slave.get(), slave.get()}, true);
    slave.reset();
    if (!typed.empty()) {
        std::this_thread::sleep_for(milliseconds(300));
        [[maybe_unused]] auto n = ::write(master.get(), typed.data(), typed.size());
    }
    ProcessResult result;
    auto deadline = Clock::now() + spec.timeout;
    for (auto left = left_until(deadline); left.count() > 0; left = left_until(deadline)) {
        pollfd fd{master.get(), POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n <= 0) break;  // EIO once the child side is closed
        result.out.append(buf, static_cast<std::size_t>(n));
    }
    reap(pid, deadline, [](milliseconds wait) { std::this_thread::sleep_for(wait); }, result);
    return result;
}

int start_process(const ProcessSpec& spec) {
    FileDescriptor devnull = open_dev_null();
    return spawn(spec, {devnull.get(), devnull.get(), devnull.get()});
}

TempDir::TempDir() : TempDir(std::filesystem::temp_directory_path()) {}

TempDir::TempDir(const std::filesystem::path& root, const std::string& prefix) {
    std::string tmpl = (root / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
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

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<int> processes_for_work_dir(const std::filesystem::path& work_dir, std::string_view program) {
    const std::string needle = "ARCADE_WORK_DIR=" + work_dir.string();
    std::vector<int> found;
    const int self = ::getpid();
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const int pid = std::stoi(name);
        if (pid == self) continue;
        if (!program.empty()) {
            std::string comm = slurp(it->path() / "comm");
            if (!comm.empty() && comm.back() == '\n') comm.pop_back();
            if (comm != program) continue;
        }
        const std::string env_block = slurp(it->path() / "environ");  // "" for zombies and vanished processes
        for (std::size_t pos = 0; pos < env_block.size();) {
            std::size_t stop = env_block.find('\0', pos);
            if (stop == std::string::npos) stop = env_block.size();
            if (env_block.compare(pos, stop - pos, needle) == 0) {
                found.push_back(pid);
                break;
            }
            pos = stop + 1;
        }
    }
    return found;
}

bool wait_detached_gone(const std::filesystem::path& work_dir, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!processes_for_work_dir(work_dir).empty()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace arcade::testing
