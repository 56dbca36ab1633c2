#pragma once
// Runs a program for end-to-end tests with stdout and stderr captured through
// pipes, stdin on /dev/null, a given environment and default signal
// dispositions. The child is killed and reaped if the object dies first.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace arcade::test {

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
};

class ChildProcess {
public:
    // Starts `program` with `args` (argv[1..]); throws std::runtime_error if it cannot.
    ChildProcess(const std::string& program, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Collects output until `done(stdout so far)` holds; false on timeout or EOF.
    bool wait_for_stdout(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout);
    void send_signal(int sig);
    // Waits for the exit (SIGKILL after `timeout`) and returns everything captured.
    ProcessResult finish(std::chrono::milliseconds timeout);

private:
    // Reads what is available within `wait`; false when both pipes are closed.
    bool pump(std::chrono::milliseconds wait);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool reaped_ = false;
    ProcessResult result_;
};

// Runs to completion (at most `timeout`).
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace arcade::test
