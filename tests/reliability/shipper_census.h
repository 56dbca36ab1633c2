#pragma once
// Counts the arcade-ship processes that this test process's descendants
// start (CLI runs spawn them, and a shipper may spawn its successor), how
// many were alive at once, how long each lived and how each ended.
//
// A shipper for `work_dir` already running when watching begins is adopted:
// counted as already running, and its successors as started.
//
// Method: the kernel's process-events connector (netlink, needs root), which
// reports every fork, exec and exit in order, so even a shipper that lives a
// millisecond (it found ship.lock taken) is counted. Where the connector is
// unavailable it falls back to polling /proc every 2 ms for arcade-ship
// processes whose ARCADE_WORK_DIR is `work_dir`; very short lives can then be
// missed, and figures().complete says so. Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace arcade::reliability {

class ShipperCensus {
public:
    struct Figures {
        std::string method;  // "process connector" or "/proc polling"
        bool complete = true;  // false: events were missed (buffer overrun, or polling)
        int already_running = 0;  // shippers for work_dir alive when watching began (not in `started`)
        int started = 0;       // arcade-ship processes that began running
        int max_alive = 0;     // the most alive at the same moment
        int alive = 0;         // alive now, counting a successor a shipper has forked but not yet exec'd
        int watchdog_kills = 0;  // ended by SIGALRM (the 10 s watchdog)
        int killed_other = 0;    // ended by any other signal
        std::chrono::milliseconds longest_life{0};
    };

    // Starts watching; `work_dir` is the ARCADE_WORK_DIR (used by the fallback).
    explicit ShipperCensus(std::filesystem::path work_dir);
    ~ShipperCensus();
    ShipperCensus(const ShipperCensus&) = delete;
    ShipperCensus& operator=(const ShipperCensus&) = delete;

    Figures figures() const;
    // Stops watching; figures() stays readable.
    void stop();

private:
    struct Node {
        std::string comm;         // after exec, or inherited from the parent at fork
        std::string parent_comm;  // the parent's at fork time
        bool shipper = false;
        bool successor_to_be = false;  // forked by a shipper, not exec'd yet
        std::uint64_t start_ns = 0;
    };

    void adopt_running_shippers();
    bool open_connector();
    void run_connector();
    void run_polling();
    void on_fork(int parent_tgid, int child_pid, int child_tgid);
    void on_exec(int tgid, std::uint64_t ts_ns);
    void on_exit(int pid, int tgid, int exit_code, std::uint64_t ts_ns);

    std::filesystem::path work_dir_;
    int root_pid_;
    int sock_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    Figures figures_;
    std::map<int, Node> nodes_;  // descendants of root_pid_ that are alive
};

}  // namespace arcade::reliability
