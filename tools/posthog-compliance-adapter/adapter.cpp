#include "posthog-compliance-adapter/adapter.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/build_info.h"
#include "core/clock.h"
#include "core/paths.h"
#include "core/time_format.h"
#include "shipper/drain.h"
#include "store/journal.h"
#include "support/gzip_body.h"
#include "support/loopback_listener.h"
#include "support/process.h"

namespace arcade::compliance {
namespace {

constexpr const char* kAdapterVersion = "1.0.0";
// Far above any harness request; PostHog refuses events over ~1 MB anyway.
constexpr std::size_t kMaxRequestBytes = 4 * 1024 * 1024;
// A decoded /batch/ body is at most 5 MiB (shipper/batch.h); anything larger
// is not ours and is not worth inflating just to list uuids.
constexpr std::size_t kMaxDecodedBatchBytes = 32 * 1024 * 1024;
// Enough for any sensible harness configuration, while a typo such as
// 1000000 cannot turn one /flush into hours of retrying.
constexpr int kMaxRetriesLimit = 100;
constexpr unsigned kJsonParseFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string finish(const rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

Reply error_reply(int status, std::string_view message) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("success");
    w.Bool(false);
    w.Key("error");
    write_string(w, message);
    w.EndObject();
    return {status, finish(buf)};
}

Reply success_reply() { return {200, R"({"success":true})"}; }

bool is_2xx(int status) { return status >= 200 && status < 300; }

// Parses a request body that must be a JSON object; the error text otherwise.
std::optional<std::string> parse_object(std::string_view body, rapidjson::Document& doc) {
    doc.Parse<kJsonParseFlags>(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return "the body must be a JSON object";
    return std::nullopt;
}

// A member that the harness may omit or send as null ("use the default").
const rapidjson::Value* optional_member(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
}

std::optional<std::string> optional_int(const rapidjson::Value& obj, const char* name, std::int64_t min,
                                        std::int64_t max, std::optional<std::int64_t>& out) {
    const rapidjson::Value* v = optional_member(obj, name);
    if (!v) return std::nullopt;
    if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max)
        return std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    out = v->GetInt64();
    return std::nullopt;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

struct Session {
    std::string api_key;
    std::string host;
    int max_retries = 3;
    // The per-session journal directory, removed with everything in it when
    // the session ends; declared before the journal, so the journal closes first.
    testing::TempDir dir;
    std::unique_ptr<store::Journal> journal;

    explicit Session(const std::filesystem::path& root) : dir(root, "arcade-compliance") {}
};

// One request as it went on the wire, for /state's `requests_made`.
struct RequestRecord {
    std::int64_t timestamp_ms = 0;  // when the attempt started
    std::string method;
    std::string url;
    int status = 0;  // 0: no HTTP answer (see error)
    std::string error;
    int retry_attempt = 0;
    std::int64_t event_count = 0;
    std::vector<std::string> uuids;
};

// Lists the uuids of a /batch/ body (gzip or plain); leaves `rec` untouched
// when the body is not a batch, so a foreign request shows as zero events.
void describe_batch(std::string_view body, RequestRecord& rec) {
    testing::Gunzipped inflated;
    if (testing::has_gzip_magic(body)) {
        inflated = testing::gunzip(body, kMaxDecodedBatchBytes);
        if (!inflated.ok()) return;
        body = inflated.text;
    }
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return;
    auto batch = doc.FindMember("batch");
    if (batch == doc.MemberEnd() || !batch->value.IsArray()) return;
    for (const auto& event : batch->value.GetArray()) {
        ++rec.event_count;
        if (!event.IsObject()) continue;
        auto uuid = event.FindMember("uuid");
        if (uuid != event.MemberEnd() && uuid->value.IsString())
            rec.uuids.emplace_back(uuid->value.GetString(), uuid->value.GetStringLength());
    }
}

// A Transport decorator that records every request the drain makes and
// makes the whole drain abandonable: while `cancel` is set, sends fail at once
// without touching the network, and a transfer in flight is aborted through
// Request::cancel. Used from one thread, like the transport it wraps.
class RecordingTransport final : public http::Transport {
public:
    RecordingTransport(http::Transport& inner, const std::atomic<bool>& cancel, const Clock& clock,
                       std::function<void(RequestRecord)> record)
        : inner_(inner), cancel_(cancel), clock_(clock), record_(std::move(record)) {}

    http::Response send(const http::Request& req) override {
        if (cancel_.load()) return cancelled();
        http::Request cancellable = req;
        cancellable.cancel = &cancel_;
        RequestRecord rec;
        rec.timestamp_ms = clock_.now_ms();
        rec.method = req.method;
        rec.url = req.url;
        http::Response resp = inner_.send(cancellable);
        rec.status = resp.status;
        rec.error = resp.error;
        describe_batch(req.body, rec);
        record_(std::move(rec));
        return resp;
    }

    // The drain streams nothing; passed through (cancellable) for completeness.
    http::Response stream(const http::Request& req, const http::ChunkSink& sink) override {
        if (cancel_.load()) return cancelled();
        http::Request cancellable = req;
        cancellable.cancel = &cancel_;
        return inner_.stream(cancellable, sink);
    }

private:
    static http::Response cancelled() {
        http::Response r;
        r.failure = http::Failure::cancelled;
        r.error = "cancelled by /reset";
        return r;
    }

    http::Transport& inner_;
    const std::atomic<bool>& cancel_;
    const Clock& clock_;
    std::function<void(RequestRecord)> record_;
};

struct FlushPlan {
    std::filesystem::path dir;
    std::string api_key;
    std::string host;
    int max_retries = 3;
};

struct FlushOutcome {
    std::int64_t delivered = 0;
    std::int64_t retries = 0;
    std::string error;
    bool interrupted = false;
};

}  // namespace

struct ComplianceAdapter::Impl {
    AdapterOptions options;
    const Clock& clock = system_clock();

    std::mutex mu;  // guards everything below except `cancel`, which the transport reads lock-free
    // Signalled when a flush ends, when `cancel` is set (waking retry sleeps)
    // and when a reset finishes.
    std::condition_variable changed;
    std::atomic<bool> cancel{false};
    bool flushing = false;
    bool shutting_down = false;
    std::unique_ptr<Session> session;
    std::int64_t captured = 0;
    std::int64_t sent = 0;
    std::int64_t retries = 0;
    std::optional<std::string> last_error;
    std::vector<RequestRecord> requests;

    explicit Impl(AdapterOptions o) : options(std::move(o)) {
        if (options.temp_root.empty()) {
            std::error_code ec;  // a bad TMPDIR should fail /init, not construction
            options.temp_root = std::filesystem::temp_directory_path(ec);
            if (ec) options.temp_root = "/tmp";
        }
    }

    // Ends the session: interrupts a flush in progress, waits for it to let
    // go of the journal, then forgets everything. Called with `l` held.
    void end_session(std::unique_lock<std::mutex>& l) {
        cancel = true;
        changed.notify_all();
        changed.wait(l, [&] { return !flushing; });
        session.reset();
        captured = sent = retries = 0;
        last_error.reset();
        requests.clear();
        if (!shutting_down) cancel = false;
        changed.notify_all();
    }

    void record(RequestRecord rec) {
        std::lock_guard l(mu);
        // The drain resends a failed batch unchanged, so the same uuids right
        // after a failure are the next attempt of that batch.
        if (!requests.empty() && !rec.uuids.empty()) {
            const RequestRecord& prev = requests.back();
            if (prev.uuids == rec.uuids && !is_2xx(prev.status)) rec.retry_attempt = prev.retry_attempt + 1;
        }
        requests.push_back(std::move(rec));
    }

    void sleep_unless_cancelled(std::chrono::milliseconds delay) {
        std::unique_lock l(mu);
        changed.wait_for(l, delay, [&] { return cancel.load(); });
    }

    // Runs the drain until nothing is pending or delivery failed for good.
    // Uses its own journal connection (as arcade-ship does in production), so
    // /capture and /state stay responsive during a long retry. Throws
    // store::JournalError or std::runtime_error when the journal fails.
    FlushOutcome run_flush(const FlushPlan& plan) {
        FlushOutcome out;
        auto opened = store::Journal::open(ConfigPaths{plan.dir}, clock, store::OpenMode::read_write);
        if (!opened.journal) throw std::runtime_error(opened.reason);
        auto transport = options.make_transport ? options.make_transport()
                                                : http::make_curl_transport(std::string(build::kLibName) + "/" +
                                                                            build::kVersion);
        if (!transport) throw std::runtime_error("no transport");
        RecordingTransport wire(*transport, cancel, clock, [this](RequestRecord r) { record(std::move(r)); });

        shipper::DrainConfig config;
        config.posthog_host = plan.host;
        config.api_key = plan.api_key;
        config.retry.max_retries = plan.max_retries;
        config.deadline = clock.monotonic() + options.flush_budget;
        config.sleep = [this](std::chrono::milliseconds delay) { sleep_unless_cancelled(delay); };

        for (;;) {
            shipper::DrainReport report = shipper::drain(*opened.journal, wire, clock, config);
            out.delivered += report.delivered;
            out.retries += report.retries;
            if (!report.error.empty()) {
                out.error = report.error;
            } else if (report.dead > 0) {
                out.error = std::to_string(report.dead) + " event(s) refused by PostHog and set aside";
            }
            if (cancel.load()) {
                out.interrupted = true;
                break;
            }
            // After its retries are exhausted the shipper keeps rows pending for
            // a later run; for this call that is a permanent failure.
            if (report.remaining == 0 || report.failed) break;
            if (report.out_of_time) {
                out.error = "flush gave up after " + std::to_string(options.flush_budget.count()) + " ms with " +
                            std::to_string(report.remaining) + " event(s) pending";
                break;
            }
            // Rows captured while this drain ran are sent by another pass; a
            // pass that could do nothing at all would only spin.
            if (report.requests == 0 && report.delivered == 0 && report.dead == 0) break;
        }
        return out;
    }
};

ComplianceAdapter::ComplianceAdapter(AdapterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

ComplianceAdapter::~ComplianceAdapter() {
    try {
        shut_down();
    } catch (...) {
        // Destructors never throw; the journal dir is removed by Session's own destructor.
    }
}

void ComplianceAdapter::shut_down() {
    Impl& s = *impl_;
    std::unique_lock l(s.mu);
    s.shutting_down = true;
    s.end_session(l);
}

Reply ComplianceAdapter::health() const {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("sdk_name");
    w.String(build::kLibName);
    w.Key("sdk_version");
    w.String(build::kVersion);
    w.Key("adapter_version");
    w.String(kAdapterVersion);
    w.Key("capabilities");
    w.StartArray();
    w.String("capture_v0");
    // The shipper always gzips (enable_compression is accepted and ignored),
    // so gzip is the only encoding the harness may test.
    w.String("encoding_gzip");
    w.EndArray();
    w.EndObject();
    return {200, finish(buf)};
}

Reply ComplianceAdapter::init(std::string_view body) {
    rapidjson::Document doc;
    if (auto err = parse_object(body, doc)) return error_reply(400, *err);
    const rapidjson::Value* api_key = optional_member(doc, "api_key");
    if (!api_key || !api_key->IsString() || api_key->GetStringLength() == 0)
        return error_reply(400, "api_key must be a non-empty string");
    const rapidjson::Value* host = optional_member(doc, "host");
    std::string_view host_text = host && host->IsString() ? host->GetString() : "";
    if (!host_text.starts_with("http://") && !host_text.starts_with("https://"))
        return error_reply(400, "host must be an http:// or https:// URL");
    std::optional<std::int64_t> flush_at, flush_interval_ms, max_retries;
    // flush_at and flush_interval_ms are validated but have no effect: the
    // adapter sends only on /flush (README.md explains why).
    if (auto err = optional_int(doc, "flush_at", 0, INT32_MAX, flush_at)) return error_reply(400, *err);
    if (auto err = optional_int(doc, "flush_interval_ms", 0, INT32_MAX, flush_interval_ms))
        return error_reply(400, *err);
    if (auto err = optional_int(doc, "max_retries", 0, kMaxRetriesLimit, max_retries)) return error_reply(400, *err);
    if (const rapidjson::Value* c = optional_member(doc, "enable_compression"); c && !c->IsBool())
        return error_reply(400, "enable_compression must be a boolean");

    Impl& s = *impl_;
    std::unique_lock l(s.mu);
    if (s.shutting_down) return error_reply(503, "the adapter is shutting down");
    s.end_session(l);
    try {
        auto session = std::make_unique<Session>(s.options.temp_root);
        session->api_key.assign(api_key->GetString(), api_key->GetStringLength());
        session->host = host_text;
        session->max_retries = static_cast<int>(max_retries.value_or(shipper::RetryPolicy{}.max_retries));
        auto opened = store::Journal::open(ConfigPaths{session->dir.path()}, s.clock, store::OpenMode::read_write);
        if (!opened.journal) return error_reply(500, "cannot open a journal: " + opened.reason);
        session->journal = std::move(opened.journal);
        s.session = std::move(session);
    } catch (const std::exception& e) {
        return error_reply(500, std::string("cannot start a session: ") + e.what());
    }
    return success_reply();
}

Reply ComplianceAdapter::capture(std::string_view body) {
    rapidjson::Document doc;
    if (auto err = parse_object(body, doc)) return error_reply(400, *err);
    const rapidjson::Value* distinct_id = optional_member(doc, "distinct_id");
    if (!distinct_id || !distinct_id->IsString() || blank(distinct_id->GetString()))
        return error_reply(400, "distinct_id must be a non-empty string");
    const rapidjson::Value* event = optional_member(doc, "event");
    if (!event || !event->IsString() || event->GetStringLength() == 0)
        return error_reply(400, "event must be a non-empty string");

    std::optional<std::int64_t> timestamp_ms;  // nullopt: the journal stamps "now"
    if (const rapidjson::Value* ts = optional_member(doc, "timestamp")) {
        if (ts->IsString()) timestamp_ms = parse_rfc3339(std::string_view(ts->GetString(), ts->GetStringLength()));
        // Before 1970 cannot be a UUIDv7 prefix; no real usage event is that old.
        if (!timestamp_ms || *timestamp_ms < 0)
            return error_reply(400, "timestamp must be an RFC 3339 date-time with an offset, from 1970 on");
    }

    rapidjson::Document properties;
    properties.SetObject();
    if (const rapidjson::Value* p = optional_member(doc, "properties")) {
        if (!p->IsObject()) return error_reply(400, "properties must be a JSON object or null");
        properties.CopyFrom(*p, properties.GetAllocator());
    }
    auto& alloc = properties.GetAllocator();
    if (!properties.HasMember("$lib")) properties.AddMember("$lib", rapidjson::StringRef(build::kLibName), alloc);
    if (!properties.HasMember("$lib_version"))
        properties.AddMember("$lib_version", rapidjson::StringRef(build::kVersion), alloc);
    rapidjson::StringBuffer props_buf;
    JsonWriter props_writer(props_buf);
    properties.Accept(props_writer);

    Impl& s = *impl_;
    std::lock_guard l(s.mu);
    if (s.shutting_down) return error_reply(503, "the adapter is shutting down");
    if (!s.session) return error_reply(400, "not initialised: POST /init first");
    try {
        store::StoredEvent row = s.session->journal->append([&](const store::Identity&) {
            store::NewEvent ev;
            ev.kind = "event";
            ev.event.assign(event->GetString(), event->GetStringLength());
            ev.distinct_id.assign(distinct_id->GetString(), distinct_id->GetStringLength());
            ev.needs_identity = false;
            ev.properties = finish(props_buf);
            ev.timestamp_ms = timestamp_ms;
            return ev;
        });
        ++s.captured;
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("success");
        w.Bool(true);
        w.Key("uuid");
        write_string(w, row.uuid);
        w.EndObject();
        return {200, finish(buf)};
    } catch (const std::exception& e) {
        return error_reply(500, std::string("cannot journal the event: ") + e.what());
    }
}

Reply ComplianceAdapter::flush() {
    Impl& s = *impl_;
    std::unique_lock l(s.mu);
    // One flush at a time, and none while a reset is clearing the session.
    s.changed.wait(l, [&] { return s.shutting_down || (!s.flushing && !s.cancel.load()); });
    if (s.shutting_down) return error_reply(503, "the adapter is shutting down");
    if (!s.session) return error_reply(400, "not initialised: POST /init first");
    FlushPlan plan{s.session->dir.path(), s.session->api_key, s.session->host, s.session->max_retries};
    s.flushing = true;
    l.unlock();

    FlushOutcome out;
    std::optional<std::string> internal_error;
    try {
        out = s.run_flush(plan);
    } catch (const std::exception& e) {
        internal_error = e.what();
    }

    l.lock();
    s.sent += out.delivered;
    s.retries += out.retries;
    if (internal_error) s.last_error = *internal_error;
    else if (!out.error.empty()) s.last_error = out.error;
    s.flushing = false;
    s.changed.notify_all();
    if (internal_error) return error_reply(500, "flush failed: " + *internal_error);

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("success");
    w.Bool(!out.interrupted);
    w.Key("events_flushed");
    w.Int64(out.delivered);
    if (out.interrupted) {
        w.Key("error");
        w.String("interrupted by /reset");
    }
    w.EndObject();
    return {200, finish(buf)};
}

Reply ComplianceAdapter::state() {
    Impl& s = *impl_;
    std::lock_guard l(s.mu);
    std::int64_t pending = 0;
    if (s.session) {
        try {
            pending = s.session->journal->counts().pending;
        } catch (const std::exception& e) {
            return error_reply(500, std::string("cannot read the journal: ") + e.what());
        }
    }
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("pending_events");
    w.Int64(pending);
    w.Key("total_events_captured");
    w.Int64(s.captured);
    w.Key("total_events_sent");
    w.Int64(s.sent);
    w.Key("total_retries");
    w.Int64(s.retries);
    w.Key("last_error");
    if (s.last_error) write_string(w, *s.last_error);
    else w.Null();
    w.Key("requests_made");
    w.StartArray();
    for (const RequestRecord& r : s.requests) {
        w.StartObject();
        w.Key("timestamp_ms");
        w.Int64(r.timestamp_ms);
        w.Key("status_code");
        w.Int(r.status);
        w.Key("retry_attempt");
        w.Int(r.retry_attempt);
        w.Key("event_count");
        w.Int64(r.event_count);
        w.Key("uuid_list");
        w.StartArray();
        for (const auto& u : r.uuids) write_string(w, u);
        w.EndArray();
        w.Key("method");
        write_string(w, r.method);
        w.Key("url");
        write_string(w, r.url);
        w.Key("error");
        if (r.error.empty()) w.Null();
        else write_string(w, r.error);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return {200, finish(buf)};
}

Reply ComplianceAdapter::reset() {
    Impl& s = *impl_;
    std::unique_lock l(s.mu);
    if (s.shutting_down) return error_reply(503, "the adapter is shutting down");
    s.end_session(l);
    return success_reply();
}

// ---------------------------------------------------------------------------

namespace {

// The HTTP interface: each route and the adapter call that answers it.
struct Endpoint {
    const char* method;
    const char* path;
    Reply (*call)(ComplianceAdapter& adapter, const std::string& body);
};

const Endpoint kEndpoints[] = {
    {"GET", "/health", [](ComplianceAdapter& a, const std::string&) { return a.health(); }},
    {"POST", "/init", [](ComplianceAdapter& a, const std::string& body) { return a.init(body); }},
    {"POST", "/capture", [](ComplianceAdapter& a, const std::string& body) { return a.capture(body); }},
    {"POST", "/flush", [](ComplianceAdapter& a, const std::string&) { return a.flush(); }},
    {"GET", "/state", [](ComplianceAdapter& a, const std::string&) { return a.state(); }},
    {"POST", "/reset", [](ComplianceAdapter& a, const std::string&) { return a.reset(); }},
};

}  // namespace

struct AdapterServer::Impl {
    ComplianceAdapter adapter;
    httplib::Server server;
    testing::LoopbackListener listener{server};

    explicit Impl(AdapterOptions options) : adapter(std::move(options)) {
        for (const Endpoint& e : kEndpoints) {
            const httplib::Server::Handler handler = [this, &e](const httplib::Request& req, httplib::Response& res) {
                send(res, e.call(adapter, req.body));
            };
            if (std::string_view(e.method) == "GET") server.Get(e.path, handler);
            else server.Post(e.path, handler);
        }
        // A request with neither Content-Length nor Transfer-Encoding has an
        // empty body (RFC 9112 §6.3), and some clients send a bodiless
        // POST /flush or /reset that way; httplib would refuse it with 400
        // before routing, so such requests are answered here.
        server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (req.method != "POST" || req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
                return httplib::Server::HandlerResponse::Unhandled;
            std::optional<Reply> reply = dispatch(req.method, req.path, "");
            if (!reply) return httplib::Server::HandlerResponse::Unhandled;
            send(res, *reply);
            return httplib::Server::HandlerResponse::Handled;
        });
        // Unknown routes and httplib's own refusals (e.g. 413) answer JSON too;
        // our handlers' replies already carry a body and are left alone.
        server.set_error_handler(
            httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
                if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
                std::string message = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                                        : "HTTP " + std::to_string(res.status);
                res.set_content(error_reply(res.status, message).body, "application/json");
                return httplib::Server::HandlerResponse::Handled;
            }));
        server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send(res, error_reply(500, "internal error"));
        });
        server.set_payload_max_length(kMaxRequestBytes);
        // An idle keep-alive connection holds a server thread, and so stop().
        server.set_keep_alive_timeout(1);
    }

    // The endpoint for `method` `path`, called with `body`; nullopt when
    // there is none.
    std::optional<Reply> dispatch(const std::string& method, const std::string& path, const std::string& body) {
        for (const Endpoint& e : kEndpoints)
            if (method == e.method && path == e.path) return e.call(adapter, body);
        return std::nullopt;
    }

    static void send(httplib::Response& res, const Reply& reply) {
        res.status = reply.status;
        res.set_content(reply.body, "application/json");
    }
};

AdapterServer::AdapterServer(AdapterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

AdapterServer::~AdapterServer() {
    try {
        stop();
    } catch (...) {
        // Destructors never throw; a failed join leaves nothing more to release.
    }
}

int AdapterServer::start(int port) { return impl_->listener.start(port, "compliance adapter"); }

std::string AdapterServer::url() const { return impl_->listener.url(); }

void AdapterServer::stop() {
    // First release any handler blocked in /flush, or the server's join waits for it.
    impl_->adapter.shut_down();
    impl_->listener.stop();
}

}  // namespace arcade::compliance
