#include "shipper_census.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "support/process.h"

namespace arcade::reliability {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kShipperComm = "arcade-ship";

std::string read_comm(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(in, comm);
    return comm;
}

std::uint64_t monotonic_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

// The subscription message: a netlink header, then a connector header
// whose payload is the op.
bool send_mcast_op(int sock, proc_cn_mcast_op op) {
    constexpr std::size_t kLen = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
    alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    auto* header = reinterpret_cast<nlmsghdr*>(buf);
    header->nlmsg_len = kLen;
    header->nlmsg_type = NLMSG_DONE;
    auto* connector = static_cast<cn_msg*>(NLMSG_DATA(header));
    connector->id.idx = CN_IDX_PROC;
    connector->id.val = CN_VAL_PROC;
    connector->len = sizeof(proc_cn_mcast_op);
    std::memcpy(connector->data, &op, sizeof op);
    return ::send(sock, buf, kLen, 0) == static_cast<ssize_t>(kLen);
}

}  // namespace

ShipperCensus::ShipperCensus(fs::path work_dir) : work_dir_(std::move(work_dir)), root_pid_(::getpid()) {
    const char* forced = std::getenv("ARCADE_RELIABILITY_CENSUS");
    std::string unusable = forced && std::string(forced) == "poll" ? "ARCADE_RELIABILITY_CENSUS=poll"
                           : !open_connector()                     ? "no process connector (needs root)"
                                                                   : probe_connector();
    if (unusable.empty()) {
        adopt_running_shippers();  // after subscribing, so none slips between the two
        figures_.method = "process connector";
        thread_ = std::thread([this] { run_connector(); });
        return;
    }
    if (sock_ >= 0) {
        send_mcast_op(sock_, PROC_CN_MCAST_IGNORE);
        ::close(sock_);
        sock_ = -1;
    }
    nodes_.clear();
    figures_ = Figures{};
    figures_.method = "/proc polling (" + unusable + ")";
    figures_.complete = false;
    thread_ = std::thread([this] { run_polling(); });
}

ShipperCensus::~ShipperCensus() { stop(); }

void ShipperCensus::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (sock_ >= 0) {
        // Everything that happened before this call is already queued.
        while (handle_messages(MSG_DONTWAIT)) {
        }
        send_mcast_op(sock_, PROC_CN_MCAST_IGNORE);
        ::close(sock_);
        sock_ = -1;
    }
}

bool ShipperCensus::wait_none_alive(std::chrono::milliseconds limit) const {
    for (auto until = std::chrono::steady_clock::now() + limit;; std::this_thread::sleep_for(20ms)) {
        if (figures().alive == 0) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
    }
}

ShipperCensus::Figures ShipperCensus::figures() const {
    std::lock_guard lock(mutex_);
    return figures_;
}

namespace {

// arcade-ship processes whose environment names `work_dir`.
std::set<int> shippers_for(const fs::path& work_dir) {
    auto pids = testing::processes_for_work_dir(work_dir, kShipperComm);
    return {pids.begin(), pids.end()};
}

}  // namespace

void ShipperCensus::adopt_running_shippers() {
    std::uint64_t now = monotonic_ns();
    auto running = shippers_for(work_dir_);
    std::lock_guard lock(mutex_);
    for (int pid : running) {
        Node node;
        node.shipper = true;
        node.start_ns = now;
        nodes_[pid] = node;
        ++figures_.already_running;
        ++figures_.alive;
        figures_.max_alive = std::max(figures_.max_alive, figures_.alive);
    }
}

bool ShipperCensus::open_connector() {
    sock_ = ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (sock_ < 0) return false;
    // A storm produces thousands of events a second; a deep buffer keeps the
    // kernel from dropping them while this thread is busy.
    int size = 16 << 20;
    if (::setsockopt(sock_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        ::setsockopt(sock_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = CN_IDX_PROC;
    addr.nl_pid = 0;
    if (::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        !send_mcast_op(sock_, PROC_CN_MCAST_LISTEN)) {
        ::close(sock_);
        sock_ = -1;
        return false;
    }
    return true;
}

// The kernel accepts the subscription silently even where it will not
// report our processes (another PID or user namespace: it drops the request,
// or reports pids of the initial namespace). So fork a child that exits at
// once and look for its fork and exit under the pid fork() gave us. Both
// events are queued before fork() and waitpid() return here, so reading
// what is already queued is enough: no timeout involved.
std::string ShipperCensus::probe_connector() {
    pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) ::_exit(0);
    probe_pid_ = pid;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (!(probe_forked_ && probe_exited_) && handle_messages(MSG_DONTWAIT)) {
    }
    probe_pid_ = -1;
    if (probe_forked_ && probe_exited_) return "";
    return "the process connector did not report this process's children (another PID namespace?)";
}

// Reads and handles one queued message (blocking unless MSG_DONTWAIT);
// false when none was there.
bool ShipperCensus::handle_messages(int flags) {
    alignas(nlmsghdr) char buf[1 << 16];
    ssize_t n = ::recv(sock_, buf, sizeof buf, flags);
    if (n < 0) {
        if (errno == ENOBUFS) {  // the kernel dropped events: we missed some
            std::lock_guard lock(mutex_);
            figures_.complete = false;
            return true;
        }
        return false;
    }
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    for (int len = static_cast<int>(n); NLMSG_OK(h, static_cast<unsigned>(len)); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP) continue;
        auto* cn = static_cast<cn_msg*>(NLMSG_DATA(h));
        if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
        // The payload sits 4-byte aligned after the headers; proc_event
        // needs 8, so read it from an aligned copy.
        proc_event ev{};
        std::memcpy(&ev, cn->data, std::min<std::size_t>(cn->len, sizeof ev));
        switch (ev.what) {
            case proc_event::PROC_EVENT_FORK:
                on_fork(ev.event_data.fork.parent_tgid, ev.event_data.fork.child_pid, ev.event_data.fork.child_tgid,
                        ev.timestamp_ns);
                break;
            case proc_event::PROC_EVENT_SID:
                on_sid(ev.event_data.sid.process_pid, ev.event_data.sid.process_tgid);
                break;
            case proc_event::PROC_EVENT_EXEC:
                on_exec(ev.event_data.exec.process_tgid, ev.timestamp_ns);
                break;
            case proc_event::PROC_EVENT_EXIT:
                on_exit(ev.event_data.exit.process_pid, ev.event_data.exit.process_tgid,
                        static_cast<int>(ev.event_data.exit.exit_code), ev.timestamp_ns);
                break;
            default:
                break;
        }
    }
    return true;
}

void ShipperCensus::run_connector() {
    while (!stopping_) {
        pollfd p{sock_, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) handle_messages(0);
    }
}

// nodes_ belongs to the one thread handling events (the constructor's probe,
// then run_connector, then stop() after joining it); mutex_ guards figures_.

void ShipperCensus::on_fork(int parent_tgid, int child_pid, int child_tgid, std::uint64_t ts_ns) {
    if (child_pid != child_tgid) return;  // a new thread, not a process
    if (parent_tgid == root_pid_ && child_tgid == probe_pid_) probe_forked_ = true;
    auto parent = nodes_.find(parent_tgid);
    if (parent_tgid != root_pid_ && parent == nodes_.end()) return;
    Node child;
    child.child_of_root = parent_tgid == root_pid_;
    // A shipper forks only to start its successor (the child execs) or to
    // relay (the child goes on as the shipper): count it as alive already,
    // so "no shipper alive" never falls between the two. A relayed shipper
    // forks in turn.
    if (parent != nodes_.end() && (parent->second.shipper || parent->second.forked_by_shipper)) {
        child.forked_by_shipper = true;
        child.start_ns = ts_ns;
        mark_to_be(child);
    }
    nodes_[child_tgid] = child;
}

void ShipperCensus::on_sid(int pid, int tgid) {
    if (pid != tgid) return;
    auto it = nodes_.find(tgid);
    if (it == nodes_.end() || it->second.shipper) return;
    it->second.detached = true;
    mark_to_be(it->second);  // about to exec arcade-ship
}

void ShipperCensus::mark_to_be(Node& node) {
    if (node.to_be) return;
    node.to_be = true;
    std::lock_guard lock(mutex_);
    ++figures_.alive;
}

void ShipperCensus::on_exec(int tgid, std::uint64_t ts_ns) {
    auto it = nodes_.find(tgid);
    if (it == nodes_.end() || it->second.shipper) return;
    Node& node = it->second;
    bool shipper = node.detached;
    bool unknown = false;
    if (!shipper) {
        // Not spawned detached: a shipper only if it is one run in the
        // foreground (by this process or a script), known by its name.
        std::string comm = read_comm(tgid);
        shipper = comm == kShipperComm;
        // Gone already: only this process's own children may have been
        // shippers run in the foreground; the rest are shells, CLIs, seq.
        unknown = comm.empty() && node.child_of_root;
    }
    std::lock_guard lock(mutex_);
    if (node.to_be) {
        node.to_be = false;
        --figures_.alive;
    }
    if (unknown) figures_.complete = false;
    if (!shipper) return;
    node.shipper = true;
    node.start_ns = ts_ns;
    ++figures_.started;
    ++figures_.alive;
    figures_.max_alive = std::max(figures_.max_alive, figures_.alive);
}

void ShipperCensus::on_exit(int pid, int tgid, int exit_code, std::uint64_t ts_ns) {
    if (pid != tgid) return;  // a thread
    if (tgid == probe_pid_) probe_exited_ = true;
    auto it = nodes_.find(tgid);
    if (it == nodes_.end()) return;
    {
        std::lock_guard lock(mutex_);
        if (it->second.to_be) --figures_.alive;
        // Forked by a shipper, never detached nor exec'd: it was the shipper
        // from its fork on (a relay); its life counts from there.
        const bool relayed = it->second.to_be && it->second.forked_by_shipper && !it->second.detached;
        if (relayed) ++figures_.relayed;
        if (it->second.shipper || relayed) {
            if (it->second.shipper) --figures_.alive;
            auto life = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::nanoseconds(ts_ns - it->second.start_ns));
            figures_.longest_life = std::max(figures_.longest_life, life);
            if (WIFSIGNALED(exit_code)) {
                if (WTERMSIG(exit_code) == SIGALRM) ++figures_.watchdog_kills;
                else ++figures_.killed_other;
            }
        }
    }
    nodes_.erase(it);
}

void ShipperCensus::run_polling() {
    std::map<int, std::uint64_t> seen;  // alive shippers -> when first seen (ns)
    bool first = true;
    while (!stopping_) {
        std::set<int> now = shippers_for(work_dir_);
        std::uint64_t ts = monotonic_ns();
        {
            std::lock_guard lock(mutex_);
            for (int pid : now) {
                if (!seen.emplace(pid, ts).second) continue;
                if (first) ++figures_.already_running;
                else ++figures_.started;
            }
            for (auto it = seen.begin(); it != seen.end();) {
                if (now.count(it->first)) {
                    ++it;
                    continue;
                }
                auto life = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(ts - it->second));
                figures_.longest_life = std::max(figures_.longest_life, life);
                it = seen.erase(it);
            }
            figures_.alive = static_cast<int>(now.size());
            figures_.max_alive = std::max(figures_.max_alive, figures_.alive);
        }
        first = false;
        std::this_thread::sleep_for(2ms);
    }
}

}  // namespace arcade::reliability
