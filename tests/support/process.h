#pragma once
// Running the real binaries from tests: a throwaway work dir, an explicit
// environment, captured stdout/stderr and exit status, with a hard timeout so
// a broken build fails instead of hanging.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace arcade::testing {

struct ProcessResult {
    int exit_code = -1;  // -1: killed by the timeout; 128+N: killed by signal N
    std::string out;
    std::string err;
};

struct ProcessSpec {
    std::vector<std::string> argv;                   // argv[0] is the executable path
    std::map<std::string, std::string> env;          // the complete environment
    std::optional<std::string> stdin_data;           // nullopt: stdin is /dev/null
    std::chrono::milliseconds timeout{20000};
};

ProcessResult run_process(const ProcessSpec& spec);

// Runs the process with stdin, stdout and stderr on a new pseudo-terminal,
// as a person at a terminal would; `typed` is written to it after a short
// pause. Output is what the terminal showed (stdout and stderr together).
ProcessResult run_in_terminal(const ProcessSpec& spec, const std::string& typed = "");

// Starts a process without waiting; returns its pid (stdio on /dev/null).
int start_process(const ProcessSpec& spec);

// A fresh directory under /tmp, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A path from the environment variable `name` (set by CTest), or "".
std::string env_path(const char* name);

// The environment for running `arcade` in `work_dir` with tracking on and
// PostHog at `posthog_url` (a closed loopback port when empty).
std::map<std::string, std::string> arcade_env(const std::filesystem::path& work_dir, const std::string& posthog_url = "");

// Waits until no process is left whose environment holds
// ARCADE_WORK_DIR=`work_dir` (the detached shippers a test's CLI runs
// started, including a fork that has not exec'd yet); false on timeout.
// Unlike probing ship.lock this also covers a shipper that has not taken the
// lock yet, and never takes the lock itself.
bool wait_detached_gone(const std::filesystem::path& work_dir,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(12000));

// Reads a whole file ("" when missing).
std::string slurp(const std::filesystem::path& path);

}  // namespace arcade::testing
