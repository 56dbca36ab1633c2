#pragma once

// A loopback stand-in for PostHog's capture endpoint (`POST /batch/`), with
// scriptable faults, for integration tests and benchmarks of the shipper.
// The wire protocol it checks is described in /work/shared/POSTHOG.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arcade::testing {

// One /batch/ request as the sink saw it; kept whether or not it was accepted.
struct ReceivedRequest {
  int64_t received_ms = 0;  // Unix time in ms when the body had been read
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined by ", "
  bool gzip_header = false;  // Content-Encoding said gzip
  bool gzip_body = false;    // the body on the wire began with the gzip magic bytes 1f 8b
  std::size_t body_bytes = 0;  // body size on the wire (compressed size if gzipped)
  std::string api_key;
  std::string sent_at;
  std::vector<std::string> events;  // each batch element re-serialised as compact JSON
  int status_returned = 0;  // 0 while pending, and when no answer was sent (reset, hang)
  std::string error;        // why the sink refused the request; empty when accepted
};

// One scripted reaction to one /batch/ request.
struct Step {
  enum Kind {
    respond,  // answer `status` (a 2xx never overrides a validation failure)
    reset,    // after `delay`, abort the TCP connection (RST) without any response
    hang,     // answer nothing for `delay` (30 s if zero) or until stop(), then reset
    slow,     // answer normally, but the body one byte per second
  };
  Kind kind = respond;
  int status = 200;
  std::string retry_after;  // Retry-After header value, sent if non-empty
  std::string body;         // response body; empty means the sink's default for `status`
  std::chrono::milliseconds delay{0};  // wait before answering (for hang: how long)
};

// Parses "200", "500", "429:2" (status, Retry-After), "reset", "hang", "slow",
// with an optional "delay=<ms>:" prefix ("delay=3000:200"); throws std::invalid_argument.
Step parse_step(std::string_view text);

// Parses comma-separated steps ("500,429:1,200"); empty text is an empty
// script; throws std::invalid_argument.
std::vector<Step> parse_script(std::string_view text);

// An HTTP server on 127.0.0.1 that validates and records PostHog capture
// requests. All members are thread-safe; it serves on its own threads until
// stop() or destruction.
class PostHogSink {
 public:
  // A non-empty `api_key_required` makes any other api_key a 401.
  explicit PostHogSink(std::string api_key_required = "");
  // Stops serving and wakes any hanging or slow answers; never throws.
  ~PostHogSink();
  PostHogSink(const PostHogSink &) = delete;
  PostHogSink &operator=(const PostHogSink &) = delete;

  // Binds 127.0.0.1:`port` (0 picks a free port) and serves in the background;
  // returns the port. Throws std::runtime_error if it cannot bind, and
  // std::logic_error if already started.
  int start(int port = 0);
  // "http://127.0.0.1:<port>"; meaningful only after start().
  std::string url() const;
  // Stops accepting, wakes scripted sleeps and joins the server; idempotent.
  // Takes up to ~1 s while a client holds an idle keep-alive connection.
  void stop();

  // Replaces the remaining script; each /batch/ request consumes one step,
  // and requests beyond the script get the normal behaviour.
  void script(std::vector<Step> steps);
  // Calls `observer` after each accepted request is recorded, on a server
  // thread; calls are serialised. Replaces any earlier observer.
  void on_accepted(std::function<void(const ReceivedRequest &)> observer);

  // Every /batch/ request recorded so far, in the order received.
  std::vector<ReceivedRequest> requests() const;
  // The events of requests answered 2xx, in the order received.
  std::vector<std::string> accepted_events() const;
  // How many events accepted_events() holds.
  std::size_t accepted_count() const;
  // Blocks until at least `n` events are accepted or `timeout` passes;
  // returns whether they were.
  bool wait_for_accepted(std::size_t n, std::chrono::milliseconds timeout) const;
  // The most /batch/ requests ever in flight at the same moment.
  int max_concurrent_requests() const;
  // Forgets recorded requests and the concurrency high-water mark (the
  // script is kept).
  void clear();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One event as PostHog accepted it, with the fields tests look at.
struct SentEvent {
  std::string json;         // the event as sent
  std::string event;
  std::string distinct_id;
  std::string uuid;
  std::string command;      // properties.command_name
  std::string alias;        // properties.alias ($create_alias: the anonymous id merged)
  std::string alias_target; // properties.distinct_id ($create_alias)
  bool has_person_flag = false;  // $process_person_profile present
  bool personless = false;       // ... and false
  bool is_alias() const { return event == "$create_alias"; }
  // A string property, or "" when absent or not a string.
  std::string prop(const char *key) const;
  // A boolean property, or nullopt when absent or not a boolean.
  std::optional<bool> flag(const char *key) const;
};

// Parses one accepted event; throws std::runtime_error on text that is not
// an event object.
SentEvent parse_sent_event(const std::string &json);
// sink.accepted_events(), parsed, in the order received.
std::vector<SentEvent> sent_events(const PostHogSink &sink);

}  // namespace arcade::testing
