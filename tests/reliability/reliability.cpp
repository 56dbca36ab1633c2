#include "reliability.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/clock.h"
#include "core/files.h"
#include "core/paths.h"
#include "core/uuid.h"
#include "shipper/schedule.h"

namespace arcade::reliability {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

#ifndef ARCADE_RELIABILITY_DEFAULT_SCALE
#define ARCADE_RELIABILITY_DEFAULT_SCALE "ci"
#endif

Scale scale() {
    const char* v = std::getenv("ARCADE_RELIABILITY_SCALE");
    std::string s = v && *v ? v : ARCADE_RELIABILITY_DEFAULT_SCALE;
    if (s == "ci") return Scale::ci;
    if (s == "full") return Scale::full;
    if (s == "quick") return Scale::quick;
    throw std::invalid_argument("ARCADE_RELIABILITY_SCALE must be `ci`, `full` or `quick`, not `" + s + "`");
}

const char* scale_name() {
    switch (scale()) {
        case Scale::quick: return "quick";
        case Scale::ci: return "ci";
        case Scale::full: return "full";
    }
    return "?";
}

int scaled(int ci_value, int full_value) {
    switch (scale()) {
        case Scale::quick: return std::max(1, ci_value / 2);
        case Scale::ci: return ci_value;
        case Scale::full: return full_value;
    }
    return ci_value;
}

// --- WorkDir -------------------------------------------------------------------

void WorkDir::settle(std::chrono::milliseconds limit) const {
    auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        bool idle = static_cast<bool>(wait_shipper_idle(std::max(left, 0ms)));
        auto counts = queue_counts(config_dir());
        if (idle && counts && counts->pending == 0) return;
        if (std::chrono::steady_clock::now() >= until) return;
        std::this_thread::sleep_for(50ms);
    }
}

// --- journal -------------------------------------------------------------------

namespace {

std::unique_ptr<store::Journal> open_for_append(const fs::path& dir) {
    if (!ensure_private_dir(dir)) throw std::runtime_error("cannot create " + dir.string());
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_write);
    if (!open.journal) throw std::runtime_error("cannot open the journal: " + open.reason);
    return std::move(open.journal);
}

}  // namespace

std::string queue_poison_event(const fs::path& dir, const std::string& tag) {
    auto journal = open_for_append(dir);
    auto row = journal->append([&](const store::Identity& id) {
        store::NewEvent e;
        e.event = "CLI execution \xff\xfe failed";
        e.distinct_id = id.anon_id;
        e.properties = "{\"command_name\":\"" + tag + "\",\"poison\":true}";
        return e;
    });
    return row.uuid;
}

std::size_t JournalSnapshot::count_state(const std::string& state, const std::string& tag) const {
    std::size_t n = 0;
    for (const auto& r : rows) {
        if (r.state != state) continue;
        if (!tag.empty() && r.properties.find("\"command_name\":\"" + tag + "\"") == std::string::npos) continue;
        ++n;
    }
    return n;
}

JournalSnapshot snapshot(const fs::path& dir) {
    JournalSnapshot s;
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_only);
    if (!open.journal) {
        s.reason = open.reason;
        return s;
    }
    try {
        s.rows = open.journal->events(10'000'000);
        s.counts = open.journal->counts();
        s.shipper = open.journal->shipper_record();
        s.readable = true;
    } catch (const std::exception& e) {
        s.reason = e.what();
    }
    return s;
}

std::optional<store::QueueCounts> queue_counts(const fs::path& dir) {
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_only);
    if (!open.journal) return std::nullopt;
    try {
        return open.journal->counts();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// --- sink side -----------------------------------------------------------------

std::string event_uuid(const std::string& event_json) {
    rapidjson::Document d;
    d.Parse(event_json.c_str(), event_json.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("uuid") || !d["uuid"].IsString()) return "";
    return d["uuid"].GetString();
}

std::string event_command(const std::string& event_json) {
    rapidjson::Document d;
    d.Parse(event_json.c_str(), event_json.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("properties") || !d["properties"].IsObject()) return "";
    const auto& p = d["properties"];
    if (!p.HasMember("command_name") || !p["command_name"].IsString()) return "";
    return p["command_name"].GetString();
}

std::map<std::string, int> accepted_copies(const std::vector<std::string>& accepted_events,
                                           const std::set<std::string>& tags) {
    std::map<std::string, int> copies;
    for (const auto& e : accepted_events) {
        rapidjson::Document d;
        d.Parse(e.c_str(), e.size());
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("uuid") || !d["uuid"].IsString()) continue;
        if (!tags.empty()) {
            const auto& p = d["properties"];
            if (!p.IsObject() || !p.HasMember("command_name") || !p["command_name"].IsString() ||
                !tags.count(p["command_name"].GetString()))
                continue;
        }
        ++copies[d["uuid"].GetString()];
    }
    return copies;
}

Tally tally(const std::vector<std::string>& produced_uuids, const std::map<std::string, int>& copies,
            const JournalSnapshot& journal) {
    std::map<std::string, const store::StoredEvent*> rows;
    for (const auto& r : journal.rows) rows[r.uuid] = &r;
    Tally t;
    t.produced = static_cast<std::int64_t>(produced_uuids.size());
    for (const auto& u : produced_uuids) {
        auto c = copies.find(u);
        if (c != copies.end() && c->second > 0) {
            ++t.delivered;
            continue;
        }
        auto r = rows.find(u);
        if (r != rows.end() && r->second->state == "dead") ++t.dead;
        else if (r != rows.end() && r->second->state == "pending") ++t.kept;
        else ++t.lost;  // never acknowledged, and the journal no longer holds it (or claims it was sent)
    }
    for (const auto& [uuid, n] : copies) {
        t.duplicated += n - 1;
        t.max_copies = std::max(t.max_copies, n);
        if (n >= 3) ++t.resent_more_than_once;
    }
    return t;
}

std::string describe_repeats(const std::vector<testing::ReceivedRequest>& requests) {
    std::map<std::string, std::pair<std::size_t, std::int64_t>> first;  // uuid -> (request index, time)
    std::set<std::string> repeated;
    std::set<std::size_t> first_batches;
    std::int64_t min_gap = -1, max_gap = -1;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        if (r.status_returned < 200 || r.status_returned >= 300) continue;
        for (const auto& e : r.events) {
            auto u = event_uuid(e);
            auto [it, fresh] = first.emplace(u, std::make_pair(i, r.received_ms));
            if (fresh || !repeated.insert(u).second) continue;
            first_batches.insert(it->second.first);
            std::int64_t gap = r.received_ms - it->second.second;
            min_gap = min_gap < 0 ? gap : std::min(min_gap, gap);
            max_gap = std::max(max_gap, gap);
        }
    }
    if (repeated.empty()) return "none";
    return std::to_string(repeated.size()) + " uuids from " + std::to_string(first_batches.size()) +
           " batches, repeated " + std::to_string(min_gap) + "–" + std::to_string(max_gap) + " ms later";
}

// --- usage.json ------------------------------------------------------------------

bool valid_usage_json(const std::string& text, std::string* anon_id) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsObject() || d.MemberCount() != 2) return false;
    if (!d.HasMember("anon_id") || !d["anon_id"].IsString() || !is_uuid(d["anon_id"].GetString())) return false;
    if (!d.HasMember("linked_principal_id")) return false;
    const auto& p = d["linked_principal_id"];
    if (!p.IsNull() && !(p.IsString() && p.GetStringLength() > 0)) return false;
    if (anon_id) *anon_id = d["anon_id"].GetString();
    return true;
}

// --- tables ------------------------------------------------------------------------

FiguresTable::FiguresTable(std::string title, std::vector<std::string> columns)
    : title_(std::move(title)), columns_(std::move(columns)) {}

void FiguresTable::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

namespace {

std::string markdown_table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows) {
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        out << "|";
        for (const auto& c : cells) out << " " << c << " |";
        out << "\n";
    };
    line(columns);
    out << "|";
    for (std::size_t i = 0; i < columns.size(); ++i) out << "---|";
    out << "\n";
    for (const auto& r : rows) line(r);
    return out.str();
}

void append_to_report(const std::string& text) {
    const char* path = std::getenv("ARCADE_RELIABILITY_REPORT");
    if (!path || !*path) return;
    std::ofstream out(path, std::ios::app);
    out << text;
}

}  // namespace

std::string FiguresTable::markdown() const { return markdown_table(columns_, rows_); }

void FiguresTable::print() const {
    std::string text = "\n### " + title_ + " (scale: " + scale_name() + ")\n\n" + markdown() + "\n";
    std::cout << text << std::flush;
    append_to_report(text);
}

namespace {
std::mutex summary_mutex;
std::vector<std::vector<std::string>> summary_rows;
}  // namespace

void add_summary_row(const std::string& test, const std::string& case_name, std::int64_t tried, const Tally& t,
                     const std::string& notes) {
    std::lock_guard lock(summary_mutex);
    summary_rows.push_back({test, case_name, std::to_string(tried), std::to_string(t.produced),
                            std::to_string(t.delivered), std::to_string(t.lost), std::to_string(t.duplicated),
                            notes});
}

std::string summary_markdown() {
    std::lock_guard lock(summary_mutex);
    if (summary_rows.empty()) return "";
    return markdown_table({"test", "case", "cases tried", "events produced", "delivered", "lost",
                           "duplicated by uuid", "notes"},
                          summary_rows);
}

void print_summary() {
    std::string table = summary_markdown();
    if (table.empty()) return;
    std::string text = std::string("\n### Reliability summary (scale: ") + scale_name() + ")\n\n" + table + "\n";
    std::cout << text << std::flush;
    append_to_report(text);
}

std::string fmt_ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

std::string fmt_double(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

bool strict() {
    const char* v = std::getenv("ARCADE_RELIABILITY_STRICT");
    return v && std::string(v) == "1";
}

void warn(const std::string& message) {
    std::string text = "WARN: " + message + "\n";
    std::cout << text << std::flush;
    append_to_report("\n" + text);
}

}  // namespace arcade::reliability
