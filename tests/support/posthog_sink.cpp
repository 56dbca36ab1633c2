#include "support/posthog_sink.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support/gzip_body.h"
#include "support/loopback_listener.h"

namespace arcade::testing {
namespace {

// PostHog refuses /batch/ bodies above 20 MiB and events above about 1 MB.
constexpr std::size_t kMaxBodyBytes = 20u * 1024 * 1024;
constexpr std::size_t kMaxEventBytes = 1024u * 1024;
constexpr std::chrono::milliseconds kDefaultHang{30'000};
constexpr const char *kAccepted = R"({"status": 1})";
// httplib decodes Content-Encoding itself before our handler runs, which would
// hide the wire bytes; the pre-routing hook parks the header under this name.
// A header name read off the wire can never start with ':'.
constexpr const char *kParkedEncoding = ":content-encoding";

struct Verdict {
  int status = 200;
  std::string error;
};

bool is_2xx(int status) { return status >= 200 && status < 300; }

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The canonical 8-4-4-4-12 hex form, which is what PostHog SDKs send.
bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

// PostHog's answer to a gzip body it cannot decode.
Verdict gunzip_verdict(std::string_view in, std::string &out) {
  Gunzipped g = gunzip(in, kMaxBodyBytes);
  out = std::move(g.text);
  switch (g.problem) {
    case GzipProblem::none: return {};
    case GzipProblem::invalid: return {400, "body is not valid gzip"};
    case GzipProblem::truncated: return {400, "gzip stream is truncated"};
    case GzipProblem::trailing_data: return {400, "data after the end of the gzip stream"};
    case GzipProblem::too_large: return {413, "decoded body is larger than 20 MiB"};
  }
  return {400, "body is not valid gzip"};
}

std::string compact_json(const rapidjson::Value &value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

const rapidjson::Value *member(const rapidjson::Value &object, const char *name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// Why PostHog would refuse this one event, or empty if it would not. Stricter
// than PostHog in one way: a distinct_id must be a string or a number.
std::string event_problem(const rapidjson::Value &event) {
  if (!event.IsObject()) return "is not an object";
  const auto *name = member(event, "event");
  if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) {
    return "has no event name";
  }
  const auto *properties = member(event, "properties");
  if (properties != nullptr && !properties->IsObject()) return "has properties that are not an object";
  // Like PostHog, a top-level distinct_id wins; properties.distinct_id is the fallback.
  const auto *distinct_id = member(event, "distinct_id");
  if (distinct_id == nullptr && properties != nullptr) distinct_id = member(*properties, "distinct_id");
  if (distinct_id == nullptr) return "has no distinct_id";
  if (distinct_id->IsString() ? distinct_id->GetStringLength() == 0 : !distinct_id->IsNumber()) {
    return "has an empty or non-string distinct_id";
  }
  const auto *uuid = member(event, "uuid");
  if (uuid != nullptr &&
      (!uuid->IsString() || !is_uuid({uuid->GetString(), uuid->GetStringLength()}))) {
    return "has a uuid that is not a valid UUID";
  }
  return {};
}

// Decodes and validates a /batch/ body the way PostHog's capture service
// does, filling in what it can read into `record` even when refusing it.
Verdict judge(std::string_view body, const std::string &required_key, ReceivedRequest &record) {
  if (body.size() > kMaxBodyBytes) return {413, "body is larger than 20 MiB"};
  std::string decoded;
  if (record.gzip_header || record.gzip_body) {
    if (auto verdict = gunzip_verdict(body, decoded); !is_2xx(verdict.status)) return verdict;
    body = decoded;
  }

  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return {400, "body is not a JSON object"};

  if (const auto *sent_at = member(doc, "sent_at"); sent_at != nullptr && sent_at->IsString()) {
    record.sent_at = sent_at->GetString();
  }
  const auto *batch = member(doc, "batch");
  if (batch != nullptr && batch->IsArray()) {
    for (const auto &event : batch->GetArray()) record.events.push_back(compact_json(event));
  }

  const auto *api_key = member(doc, "api_key");
  if (api_key != nullptr && api_key->IsString()) record.api_key = api_key->GetString();
  if (record.api_key.empty()) return {401, "api_key is missing"};
  if (!required_key.empty() && record.api_key != required_key) {
    return {401, "api_key does not match the project key"};
  }

  if (batch == nullptr || !batch->IsArray()) return {400, "batch is missing or not an array"};
  if (batch->Empty()) return {400, "batch is empty"};
  for (rapidjson::SizeType i = 0; i < batch->Size(); ++i) {
    if (auto problem = event_problem((*batch)[i]); !problem.empty()) {
      return {400, "batch[" + std::to_string(i) + "] " + problem};
    }
    if (record.events[i].size() > kMaxEventBytes) {
      return {413, "batch[" + std::to_string(i) + "] is larger than 1 MiB"};
    }
  }
  return {};
}

// PostHog-like error bodies; only the status matters to clients, the detail
// is for whoever reads a failing test's log.
std::string error_body(const char *type, const std::string &detail) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("type");
  writer.String(type);
  writer.Key("detail");
  writer.String(detail.c_str());
  writer.EndObject();
  return buffer.GetString();
}

// httplib gives a handler no handle on its connection, so find our end of it
// among the process's descriptors by its port pair. The worker thread running
// the handler keeps the descriptor open until the handler returns.
int find_connection(int local_port, int remote_port) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int fd = -1;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc{}) continue;
    sockaddr_in local{};
    sockaddr_in peer{};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != local_port) {
      continue;
    }
    length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &length) != 0 ||
        peer.sin_family != AF_INET || ntohs(peer.sin_port) != remote_port) {
      continue;
    }
    return fd;
  }
  return -1;
}

// Server threads write to clients that may already have given up; without
// this, the SIGPIPE from such a write would kill the whole test process.
// Threads inherit the mask, so blocking it here covers httplib's pool too,
// without touching the disposition for the rest of the process.
void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

struct PostHogSink::State {
  explicit State(std::string key) : required_key(std::move(key)) {}

  // Counts a /batch/ request as in flight while it lives; a slow answer keeps
  // it alive in its content provider until the last byte is written.
  class InFlight {
   public:
    explicit InFlight(State &state) : state_(state) {
      std::lock_guard lock(state_.mutex);
      state_.max_in_flight = std::max(state_.max_in_flight, ++state_.in_flight);
    }
    ~InFlight() {
      std::lock_guard lock(state_.mutex);
      --state_.in_flight;
    }
    InFlight(const InFlight &) = delete;
    InFlight &operator=(const InFlight &) = delete;

   private:
    State &state_;
  };

  struct Entry {
    uint64_t id;
    ReceivedRequest request;
  };

  const std::string required_key;
  httplib::Server server;
  LoopbackListener listener{server};

  mutable std::mutex mutex;  // guards everything below
  // Signalled when events are accepted and when the sink is stopping.
  mutable std::condition_variable changed;
  bool stopping = false;
  std::deque<Step> steps;
  std::vector<Entry> entries;
  uint64_t next_id = 0;
  std::size_t accepted = 0;
  int in_flight = 0;
  int max_in_flight = 0;

  std::mutex observer_mutex;  // serialises observer calls
  std::function<void(const ReceivedRequest &)> observer;

  void handle_batch(const httplib::Request &req, httplib::Response &res);
  ReceivedRequest describe(const httplib::Request &req) const;
  Step next_step();
  uint64_t record(ReceivedRequest request);
  void finish(uint64_t id, int status, const std::string &error);
  bool sleep_unless_stopping(std::chrono::milliseconds duration);
  void abort_connection(const httplib::Request &req, httplib::Response &res);
};

ReceivedRequest PostHogSink::State::describe(const httplib::Request &req) const {
  ReceivedRequest request;
  request.received_ms = now_ms();
  request.path = req.path;
  request.body_bytes = req.body.size();
  request.gzip_body = has_gzip_magic(req.body);
  for (const auto &[name, value] : req.headers) {
    std::string key = name == kParkedEncoding ? "content-encoding" : lower(name);
    // httplib adds the connection's addresses as pseudo-headers.
    if (key == "remote_addr" || key == "remote_port" || key == "local_addr" ||
        key == "local_port") {
      continue;
    }
    auto [it, inserted] = request.headers.emplace(std::move(key), value);
    if (!inserted) it->second += ", " + value;
  }
  const auto encoding = request.headers.find("content-encoding");
  request.gzip_header = encoding != request.headers.end() &&
                        lower(encoding->second).find("gzip") != std::string::npos;
  return request;
}

Step PostHogSink::State::next_step() {
  std::lock_guard lock(mutex);
  if (steps.empty()) return {};
  Step step = std::move(steps.front());
  steps.pop_front();
  return step;
}

uint64_t PostHogSink::State::record(ReceivedRequest request) {
  std::lock_guard lock(mutex);
  entries.push_back({next_id, std::move(request)});
  return next_id++;
}

void PostHogSink::State::finish(uint64_t id, int status, const std::string &error) {
  ReceivedRequest accepted_request;
  {
    std::lock_guard lock(mutex);
    const auto it = std::find_if(entries.rbegin(), entries.rend(),
                                 [id](const Entry &entry) { return entry.id == id; });
    if (it == entries.rend()) return;  // clear() ran while this request was pending
    it->request.status_returned = status;
    it->request.error = error;
    if (!is_2xx(status)) return;
    accepted += it->request.events.size();
    accepted_request = it->request;
  }
  changed.notify_all();
  std::lock_guard lock(observer_mutex);
  if (observer) observer(accepted_request);
}

bool PostHogSink::State::sleep_unless_stopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex);
  return !changed.wait_for(lock, duration, [this] { return stopping; });
}

void PostHogSink::State::abort_connection(const httplib::Request &req, httplib::Response &res) {
  const int fd = find_connection(req.local_port, req.remote_port);
  if (fd >= 0) {
    // connect(AF_UNSPEC) on a connected TCP socket makes Linux send an RST and
    // drop the connection while the descriptor stays valid for httplib to
    // close; its attempt to write the response then fails quietly.
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    if (::connect(fd, &unspecified, sizeof unspecified) == 0) return;
  }
  // Fallback: headers go out, then the body aborts, so the client still sees
  // a broken response rather than a complete one.
  res.set_chunked_content_provider("application/json",
                                   [](std::size_t, httplib::DataSink &) { return false; });
}

void PostHogSink::State::handle_batch(const httplib::Request &req, httplib::Response &res) {
  auto token = std::make_shared<InFlight>(*this);
  ReceivedRequest request = describe(req);
  Verdict verdict = judge(req.body, required_key, request);
  const Step step = next_step();
  const uint64_t id = record(std::move(request));

  if (step.kind == Step::reset || step.kind == Step::hang) {
    const auto wait = step.kind == Step::hang && step.delay.count() == 0 ? kDefaultHang : step.delay;
    sleep_unless_stopping(wait);
    finish(id, 0, step.kind == Step::reset ? "scripted reset" : "scripted hang");
    abort_connection(req, res);
    return;
  }

  sleep_unless_stopping(step.delay);
  const char *error_type = verdict.status == 401 ? "authentication_error" : "validation_error";
  if (step.kind == Step::respond && is_2xx(verdict.status)) {
    verdict.status = step.status;
    if (!is_2xx(step.status)) {
      verdict.error = "scripted " + std::to_string(step.status);
      error_type = "scripted_fault";
    }
  }
  finish(id, verdict.status, verdict.error);

  res.status = verdict.status;
  if (!step.retry_after.empty()) res.set_header("Retry-After", step.retry_after);
  std::string body = !step.body.empty()       ? step.body
                     : is_2xx(verdict.status) ? std::string(kAccepted)
                                              : error_body(error_type, verdict.error);
  if (step.kind != Step::slow) {
    res.set_content(body, "application/json");
    return;
  }
  res.set_chunked_content_provider(
      "application/json",
      [this, body = std::move(body), token](std::size_t offset, httplib::DataSink &sink) {
        if (offset >= body.size()) {
          sink.done();
          return true;
        }
        if (offset > 0 && !sleep_unless_stopping(std::chrono::seconds(1))) return false;
        return sink.write(body.data() + offset, 1);
      });
}

PostHogSink::PostHogSink(std::string api_key_required)
    : state_(std::make_unique<State>(std::move(api_key_required))) {
  State &s = *state_;
  // Only SO_REUSEADDR: httplib's default also sets SO_REUSEPORT, which would
  // let a second sink share an explicit port silently.
  s.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // httplib writes a response's headers and body with two send()s. With
  // Nagle on, the body waits for the client to ACK the headers, and a client
  // on a keep-alive connection delays that ACK by 40 ms: every request would
  // stall 40 ms here. Servers that write a response in one piece, or set
  // TCP_NODELAY (nginx on keep-alive connections, Go's net/http always), do
  // not stall, so neither should the stand-in.
  // Accepted sockets inherit the option from the listening one.
  s.server.set_tcp_nodelay(true);
  // Hanging and slow steps each hold a thread; leave room for several.
  s.server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  // An idle keep-alive connection holds its thread, and so stop(), this long.
  s.server.set_keep_alive_timeout(1);
  s.server.set_keep_alive_max_count(1000);
  // A safety net only: judge() records and refuses bodies above 20 MiB first.
  s.server.set_payload_max_length(4 * kMaxBodyBytes);
  s.server.set_pre_routing_handler([](const httplib::Request &req, httplib::Response &) {
    // The Request is a non-const local of httplib's connection loop, so this
    // cast is sound; the body has not been read yet at this point.
    auto &headers = const_cast<httplib::Request &>(req).headers;
    auto range = headers.equal_range("Content-Encoding");
    std::vector<std::string> values;
    for (auto it = range.first; it != range.second; ++it) values.push_back(it->second);
    headers.erase(range.first, range.second);
    for (auto &value : values) headers.emplace(kParkedEncoding, std::move(value));
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const auto batch = [&s](const httplib::Request &req, httplib::Response &res) {
    s.handle_batch(req, res);
  };
  s.server.Post("/batch/?", batch);
  s.server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content("ok", "text/plain");
  });
}

PostHogSink::~PostHogSink() {
  try {
    stop();
  } catch (...) {
    // Destructors never throw; a failed join leaves nothing to clean up here.
  }
}

int PostHogSink::start(int port) {
  return state_->listener.start(port, "posthog sink", block_sigpipe_in_this_thread);
}

std::string PostHogSink::url() const { return state_->listener.url(); }

void PostHogSink::stop() {
  State &s = *state_;
  s.listener.stop([&s] {
    {
      std::lock_guard lock(s.mutex);
      s.stopping = true;
    }
    s.changed.notify_all();
  });
}

void PostHogSink::script(std::vector<Step> steps) {
  std::lock_guard lock(state_->mutex);
  state_->steps.assign(std::make_move_iterator(steps.begin()), std::make_move_iterator(steps.end()));
}

void PostHogSink::on_accepted(std::function<void(const ReceivedRequest &)> observer) {
  std::lock_guard lock(state_->observer_mutex);
  state_->observer = std::move(observer);
}

std::vector<ReceivedRequest> PostHogSink::requests() const {
  std::lock_guard lock(state_->mutex);
  std::vector<ReceivedRequest> out;
  out.reserve(state_->entries.size());
  for (const auto &entry : state_->entries) out.push_back(entry.request);
  return out;
}

std::vector<std::string> PostHogSink::accepted_events() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  out.reserve(state_->accepted);
  for (const auto &entry : state_->entries) {
    if (!is_2xx(entry.request.status_returned)) continue;
    out.insert(out.end(), entry.request.events.begin(), entry.request.events.end());
  }
  return out;
}

std::size_t PostHogSink::accepted_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->accepted;
}

bool PostHogSink::wait_for_accepted(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->accepted >= n; });
}

int PostHogSink::max_concurrent_requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->max_in_flight;
}

void PostHogSink::clear() {
  std::lock_guard lock(state_->mutex);
  state_->entries.clear();
  state_->accepted = 0;
  state_->max_in_flight = state_->in_flight;
}

namespace {

int parse_int(std::string_view text, std::string_view whole) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw std::invalid_argument("bad number in sink step '" + std::string(whole) + "'");
  }
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

Step parse_step(std::string_view text) {
  const std::string_view whole = text;
  text = trim(text);
  Step step;
  if (text.substr(0, 6) == "delay=") {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      throw std::invalid_argument("sink step '" + std::string(whole) + "' needs delay=<ms>:<step>");
    }
    step.delay = std::chrono::milliseconds(parse_int(text.substr(6, colon - 6), whole));
    text = text.substr(colon + 1);
  }
  if (text == "reset") {
    step.kind = Step::reset;
  } else if (text == "hang") {
    step.kind = Step::hang;
  } else if (text == "slow") {
    step.kind = Step::slow;
  } else {
    const auto colon = text.find(':');
    step.status = parse_int(text.substr(0, colon), whole);
    if (step.status < 100 || step.status > 599) {
      throw std::invalid_argument("sink step '" + std::string(whole) + "' has no valid status");
    }
    if (colon != std::string_view::npos) {
      step.retry_after = std::string(trim(text.substr(colon + 1)));
      if (step.retry_after.empty()) {
        throw std::invalid_argument("sink step '" + std::string(whole) + "' has an empty Retry-After");
      }
    }
  }
  return step;
}

std::vector<Step> parse_script(std::string_view text) {
  std::vector<Step> steps;
  if (trim(text).empty()) return steps;
  while (true) {
    const auto comma = text.find(',');
    steps.push_back(parse_step(text.substr(0, comma)));
    if (comma == std::string_view::npos) return steps;
    text.remove_prefix(comma + 1);
  }
}

namespace {

const rapidjson::Value *property(const std::string &json, rapidjson::Document &doc, const char *key) {
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return nullptr;
  auto props = doc.FindMember("properties");
  if (props == doc.MemberEnd() || !props->value.IsObject()) return nullptr;
  auto it = props->value.FindMember(key);
  return it == props->value.MemberEnd() ? nullptr : &it->value;
}

} // namespace

std::string SentEvent::prop(const char *key) const {
  rapidjson::Document doc;
  const rapidjson::Value *v = property(json, doc, key);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

std::optional<bool> SentEvent::flag(const char *key) const {
  rapidjson::Document doc;
  const rapidjson::Value *v = property(json, doc, key);
  if (!v || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

SentEvent parse_sent_event(const std::string &json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("not an event object: " + json);
  auto str = [](const rapidjson::Value &obj, const char *key) {
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
  };
  SentEvent s;
  s.json = json;
  s.event = str(d, "event");
  s.distinct_id = str(d, "distinct_id");
  s.uuid = str(d, "uuid");
  auto props = d.FindMember("properties");
  if (props != d.MemberEnd() && props->value.IsObject()) {
    const auto &p = props->value;
    s.command = str(p, "command_name");
    s.alias = str(p, "alias");
    s.alias_target = str(p, "distinct_id");
    auto person = p.FindMember("$process_person_profile");
    s.has_person_flag = person != p.MemberEnd();
    s.personless = s.has_person_flag && person->value.IsBool() && !person->value.GetBool();
  }
  return s;
}

std::vector<SentEvent> sent_events(const PostHogSink &sink) {
  std::vector<SentEvent> out;
  for (const auto &json : sink.accepted_events()) out.push_back(parse_sent_event(json));
  return out;
}

}  // namespace arcade::testing
