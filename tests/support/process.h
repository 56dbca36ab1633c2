#pragma once
// Running the real binaries from tests: a throwaway work dir, an explicit
// environment, captured stdout/stderr and exit status, with a hard timeout so
// a broken build fails instead of hanging.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcade::testing {

struct ProcessResult {
    int exit_code = -1;      // the exit status; -1 when it did not exit (a signal ended it)
    int signal = 0;          // the signal that ended it (SIGKILL after a timeout); 0 when it exited
    bool timed_out = false;  // killed because it outlived the timeout
    std::string out;
    std::string err;
};

struct ProcessSpec {
    std::vector<std::string> argv;                   // argv[0] is the executable path
    std::map<std::string, std::string> env;          // the complete environment
    std::optional<std::string> stdin_data;           // nullopt: stdin is /dev/null
    std::chrono::milliseconds timeout{20000};        // for run_process and run_in_terminal
};

// An owned file descriptor (-1: none), closed on destruction or reset().
class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1) : fd_(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    int get() const { return fd_; }
    void reset();

private:
    int fd_;
};

// A running child with stdout and stderr captured through pipes, stdin fed
// `spec.stdin_data` (written whole at start, so keep it under a pipe's 64 KiB)
// and default dispositions for the signals a test sends. A program that
// cannot be executed exits 127. Killed and reaped if still running on
// destruction. Not thread-safe.
class ChildProcess {
public:
    // Starts `spec.argv` with `spec.env`; throws std::runtime_error if it cannot fork.
    explicit ChildProcess(const ProcessSpec& spec);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Collects output until `done(stdout so far)` holds; false on timeout, or
    // when output ends without it holding.
    bool wait_for_stdout(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout);
    void send_signal(int sig);
    // Waits for the exit (SIGKILL after `timeout`) and returns everything captured.
    ProcessResult finish(std::chrono::milliseconds timeout);

private:
    // Reads what arrives within `wait`; false once both pipes are closed.
    bool pump(std::chrono::milliseconds wait);

    int pid_ = -1;
    FileDescriptor out_;
    FileDescriptor err_;
    bool reaped_ = false;
    ProcessResult result_;
};

// Runs the process to completion (at most `spec.timeout`).
ProcessResult run_process(const ProcessSpec& spec);

// Runs the process with stdin, stdout and stderr on a new pseudo-terminal,
// as a person at a terminal would; `typed` is written to it after a short
// pause. Output is what the terminal showed (stdout and stderr together).
ProcessResult run_in_terminal(const ProcessSpec& spec, const std::string& typed = "");

// Starts a process without waiting; returns its pid (stdio on /dev/null).
int start_process(const ProcessSpec& spec);

// A fresh private directory (mkdtemp) under `root` (default: the system's
// temporary directory), removed recursively on destruction. Throws
// std::system_error when it cannot be made.
class TempDir {
public:
    TempDir();
    explicit TempDir(const std::filesystem::path& root, const std::string& prefix = "arcade-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A path from the environment variable `name` (set by CTest), or "".
std::string env_path(const char* name);

// The processes (this one excepted) whose environment holds
// ARCADE_WORK_DIR=`work_dir`, only those named `program` (their
// /proc/<pid>/comm, e.g. "arcade-ship") when it is not empty. Zombies have
// no environment and are not listed.
std::vector<int> processes_for_work_dir(const std::filesystem::path& work_dir, std::string_view program = "");

// Waits until no process is left whose environment holds
// ARCADE_WORK_DIR=`work_dir` (the CLI runs and the detached shippers they
// started, including a fork that has not exec'd yet); false on timeout. One
// half of the tests' idle-wait (support/arcade_home.h: wait_shipper_idle,
// which is what a test calls); the benchmark uses it alone.
bool wait_detached_gone(const std::filesystem::path& work_dir,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(12000));

// Reads a whole file ("" when missing).
std::string slurp(const std::filesystem::path& path);

}  // namespace arcade::testing
