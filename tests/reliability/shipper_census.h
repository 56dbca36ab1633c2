#pragma once
// Counts the arcade-ship processes that this test process's descendants
// start (CLI runs spawn them, and a shipper may spawn its successor), how
// many were alive at once, how long each lived and how each ended.
//
// A shipper for `work_dir` already running when watching begins is adopted:
// counted as already running, and its successors as started.
//
// Method: the kernel's process-events connector (netlink, needs root in the
// initial PID and user namespaces), which reports every fork, setsid, exec
// and exit in order. A shipper is recognised from those events alone, so a
// shipper that lives a millisecond (it found ship.lock taken) is counted
// however late this thread reads its events: a descendant that calls
// setsid() and then execs is a shipper the product spawned detached (nothing
// else in these tests detaches); any other descendant is one when its name,
// read at its exec, is arcade-ship (a shipper run in the foreground). Should
// a child of this process be gone before its name could be read,
// figures().complete turns false. The connector is used only after a probe child's fork
// and exit have come back under the pid fork() returned here: inside a PID
// namespace the kernel reports other pids or none at all, which once made
// the census count 0 shippers while claiming to be complete.
//
// Where the connector is unusable it falls back to polling /proc every 2 ms
// for arcade-ship processes whose ARCADE_WORK_DIR is `work_dir`; short lives
// can then be missed, and figures().complete says so. Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace arcade::reliability {

class ShipperCensus {
public:
    struct Figures {
        std::string method;       // "process connector", or "/proc polling (<why>)"
        bool complete = true;     // false: shippers may have been missed (polling, lost events)
        int already_running = 0;  // shippers for work_dir alive when watching began (not in `started`)
        int started = 0;          // arcade-ship processes that began running (exec'd)
        int relayed = 0;          // shippers that took over from their parent by fork, without exec (Relay)
        int max_alive = 0;        // the most alive at the same moment
        int alive = 0;            // alive now, counting a detached or shipper-forked child not yet exec'd
        int watchdog_kills = 0;   // ended by SIGALRM (the 10 s watchdog)
        int killed_other = 0;     // ended by any other signal
        std::chrono::milliseconds longest_life{0};
    };

    // Starts watching; `work_dir` is the ARCADE_WORK_DIR (used by adoption
    // and the fallback). ARCADE_RELIABILITY_CENSUS=poll forces the fallback.
    explicit ShipperCensus(std::filesystem::path work_dir);
    ~ShipperCensus();
    ShipperCensus(const ShipperCensus&) = delete;
    ShipperCensus& operator=(const ShipperCensus&) = delete;

    Figures figures() const;
    // Waits until no shipper is alive (at most `limit`, a bound for a
    // broken run: each must exit within 10 s); false when one still is.
    bool wait_none_alive(std::chrono::milliseconds limit) const;
    // Stops watching, after taking in every event the kernel queued before
    // the call (the connector queues them synchronously, at the fork, exec
    // or exit itself), so an exit that happened before stop() is counted
    // without any waiting. figures() stays readable.
    void stop();

private:
    struct Node {
        bool child_of_root = false;    // a child of this process
        bool detached = false;         // called setsid()
        bool shipper = false;
        bool to_be = false;            // forked by a shipper, or detached: not exec'd yet
        bool forked_by_shipper = false;  // if it never execs, a relayed shipper
        std::uint64_t start_ns = 0;    // its exec, or for one forked by a shipper its fork
    };

    void adopt_running_shippers();
    bool open_connector();
    std::string probe_connector();  // "" when the connector reports our processes
    bool handle_messages(int flags);  // false when nothing was waiting
    void run_connector();
    void run_polling();
    void mark_to_be(Node& node);
    void on_fork(int parent_tgid, int child_pid, int child_tgid, std::uint64_t ts_ns);
    void on_sid(int pid, int tgid);
    void on_exec(int tgid, std::uint64_t ts_ns);
    void on_exit(int pid, int tgid, int exit_code, std::uint64_t ts_ns);

    std::filesystem::path work_dir_;
    int root_pid_;
    int sock_ = -1;
    int probe_pid_ = -1;
    bool probe_forked_ = false, probe_exited_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    Figures figures_;
    std::map<int, Node> nodes_;  // descendants of root_pid_ that are alive; the event thread's alone
};

}  // namespace arcade::reliability
