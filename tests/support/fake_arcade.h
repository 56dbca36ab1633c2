#pragma once
// The test tree's one fake Arcade Engine and one fake Arcade Cloud: the
// Engine's worker API, and the Cloud's worker API plus the two auth
// endpoints `arcade login` and the shipper use. Each listens on 127.0.0.1 on
// a port the OS picks, serves from its own thread pool, and records every
// request. Configuration methods are thread-safe and may be called while the
// server runs. They answer as the Arcade services answer the Python CLI (the
// original); the worker wire formats are also documented in
// src/worker_api/engine_client.h and cloud_client.h. A new endpoint is one
// more branch in the service's handle().

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcade::testing {

inline constexpr const char* kTestApiKey = "test-key-0123456789";

struct RecordedRequest {
    std::string method;
    std::string path;  // decoded, without the query
    std::map<std::string, std::string> params;
    std::string authorization;  // the Authorization header, "" when absent
    std::string body;

    // The query parameter `name` as an int, or -1 when absent or not a number.
    long long param_int(const std::string& name) const;
};

// What a fake answers for one request (internal to the fakes, exposed so
// subclasses stay simple).
struct SseStep {
    std::string bytes;                          // written as one HTTP chunk
    std::chrono::milliseconds pause_before{0};  // waited before writing it
};

enum class SseEnd {
    finish,  // end the response properly
    drop,    // close the connection without ending the chunked body
    hang,    // keep the connection open until the server stops
};

struct SseScript {
    std::vector<SseStep> steps;
    SseEnd end = SseEnd::finish;
};

struct FakeReply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
    std::optional<SseScript> stream;  // when set, `body` is ignored
};

struct FakeRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string> params;
    std::string authorization;
    std::string body;
};

// The parts both fakes share: listening, recording, injected failures,
// delays and the expected Authorization header.
class FakeServer {
public:
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;
    virtual ~FakeServer();

    int port() const { return port_; }
    // "http://localhost:<port>", what the CLI turns `--host 127.0.0.1 -p <port>` into.
    std::string url() const;

    std::vector<RecordedRequest> requests() const;
    // The recorded requests whose method matches and whose path starts with `path_prefix`.
    std::vector<RecordedRequest> requests_to(std::string_view method, std::string_view path_prefix) const;

    // The next `times` requests (-1: all) to exactly `method path` get
    // `status` with `body` (default: {"message": "injected <status>", "name": "injected"}).
    void inject(std::string method, std::string path, int status, std::string body = {}, int times = -1);
    // The next `times` requests to exactly `method path` get a 200 whose
    // chunked body is cut off: the client sees the connection lost.
    void inject_drop(std::string method, std::string path, int times);
    // Every request waits this long before it is answered.
    void set_delay(std::chrono::milliseconds delay);
    // Requests with any other Authorization header get 401 (except on the
    // routes a service answers without it: see needs_authorization).
    void set_expected_authorization(std::string value);
    // Instead of one expected value: requests (outside the open routes) are
    // served when `check` says yes, else 401. Empty function: back to the value.
    void set_authorization_check(std::function<bool(const FakeRequest&)> check);

    // How many steps of SSE scripts this server has written so far.
    std::size_t stream_steps_sent() const;
    // Waits until at least `n` SSE steps were written; false on timeout.
    bool wait_for_stream_steps(std::size_t n, std::chrono::milliseconds timeout) const;

    // Stops serving and wakes any paused or hanging response. Idempotent.
    void stop();

protected:
    FakeServer();
    // Binds and starts serving; subclasses call it at the end of their constructor.
    void start();
    // Answers a request that passed auth and injection. Called on server threads.
    virtual FakeReply handle(const FakeRequest& req) = 0;
    // Whether `req` must carry the expected Authorization header.
    virtual bool needs_authorization(const FakeRequest&) const { return true; }
    // Waits `d` unless the server is stopping; false once stopping.
    bool pause(std::chrono::milliseconds d);
    // Blocks until the server stops.
    void wait_for_stop();

    mutable std::mutex mu_;  // guards subclass state too

private:
    struct Impl;
    friend struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

struct FakeEngineWorker {
    std::string id;
    bool enabled = true;
    bool omit_enabled = false;  // leave `enabled` out of the listing, as some Engines do
    std::string type = "http";
    std::string http_uri;
    std::string mcp_uri;
    bool managed = false;
    // One entry per tool: the toolkit the tool belongs to.
    std::vector<std::string> tool_toolkits;
};

// GET/PATCH/DELETE /v1/workers..., GET /v1/workers/{id}/tools. Expects
// `Authorization: <key>` (the raw key). With set_scope, the same routes live
// under /v1/orgs/{org}/projects/{project}/ only (an OAuth login's paths, as
// the Python CLI 1.15 rewrites them), plus
// GET /v1/orgs/{org}/projects/{project}/deployments/{id}/logs/stream (the SSE
// script).
class FakeEngine final : public FakeServer {
public:
    explicit FakeEngine(std::string api_key = kTestApiKey);
    ~FakeEngine() override;

    // Serves only org/project-scoped paths from now on.
    void set_scope(std::string org_id, std::string project_id);
    // What the scoped deployment log stream sends.
    void set_log_script(SseScript script);

    void set_workers(std::vector<FakeEngineWorker> workers);
    std::vector<FakeEngineWorker> workers() const;
    // At most this many items per page, whatever `limit` asks (0: no cap).
    void set_page_size(int page_size);
    // Misbehaviours: always serve the first page (echoing `offset` as 0 when
    // `echo_offset`), or claim this total_count regardless of the items.
    void set_ignore_offset(bool ignore, bool echo_offset);
    void set_claimed_total(std::optional<long long> total);

private:
    FakeReply handle(const FakeRequest& req) override;

    std::vector<FakeEngineWorker> workers_;
    std::optional<std::pair<std::string, std::string>> scope_;
    SseScript script_;
    int page_size_ = 0;
    bool ignore_offset_ = false;
    bool echo_offset_ = true;
    std::optional<long long> claimed_total_;
};

struct FakeCloudWorker {
    std::string name;
    std::string endpoint;
};

// How the fake cli_login page answers: a 302 to
// `callback_uri?state=<state>&api_key=<k>&email=<e>[&warning=<w>]`.
struct LoginAnswer {
    std::string api_key = "arc_test_key_one";
    std::string email = "first@example.com";
    std::string warning;       // sent when non-empty
    bool wrong_state = false;  // send a different state than the one received
    bool omit_api_key = false;
    bool omit_email = false;
};

// The account a fake OAuth login belongs to (what whoami answers).
struct FakeOrg {
    std::string id;
    std::string name;
    bool is_default = false;
    bool organization_id_key = false;  // spell the id `organization_id`, as some Coordinators do
};
struct FakeProject {
    std::string id;
    std::string name;
    bool is_default = false;
};
struct OAuthAccount {
    std::string account_id = "acct-oauth-7f3c";
    std::string email = "oauth.user@example.com";
    std::vector<FakeOrg> orgs = {{"org-other", "Other Org", false, false}, {"org-7", "Org Seven", true, true}};
    std::vector<FakeProject> projects = {{"proj-9", "Project Nine", false}};
};

inline constexpr const char* kTestClientId = "arcade-cli-test-client";

// Arcade Cloud (the Coordinator).
// OAuth, off until enable_oauth (then cli_config answers 404, as a
// first-generation Cloud does): GET /api/v1/auth/cli_config, GET
// /oauth/authorize (consent simulated: a 302 to the redirect URI with a code
// bound to the PKCE challenge, or with `error`), POST /oauth/token
// (authorization_code with the verifier checked against the challenge, each
// code once; refresh_token), GET /api/v1/auth/whoami (Bearer access token).
// Written from the Python CLI 1.15's behaviour (authn.py, auth_tokens.py).
// Workers: GET /api/v1/workers, DELETE /api/v1/workers/{id}, GET
// /api/v1/workers/logs/{id} (the SSE script); they expect
// `Authorization: Bearer <key>`.
// Auth, answered without the expected key: GET /api/v1/auth/validate (the
// principal behind the Bearer key: 200 {"data": {"principal_id": …}}, 401
// for a key it does not know) and GET /api/v1/auth/cli_login (the page the
// browser is sent to, which redirects to the CLI's callback with the
// credentials).
class FakeCloud final : public FakeServer {
public:
    explicit FakeCloud(std::string api_key = kTestApiKey);
    ~FakeCloud() override;

    void set_workers(std::vector<FakeCloudWorker> workers);
    std::vector<FakeCloudWorker> workers() const;
    // 0: one response with every worker and no total_count (the default);
    // n: pages of n with `total_count`, following `offset`/`limit`.
    void set_page_size(int page_size);
    // What GET /api/v1/workers/logs/{id} streams (any id).
    void set_log_script(SseScript script);

    // validate answers 200 with `principal` for `api_key`.
    void set_principal(const std::string& api_key, const std::string& principal);
    // Forces every validate answer to `status` (401, 500, …); 0 restores the
    // per-key behaviour.
    void force_validate_status(int status);
    // Delays every validate answer (to exceed the client's 2 s limit).
    void set_validate_delay(std::chrono::milliseconds delay);
    // How many validate requests arrived, and their Authorization headers.
    int validate_calls() const;
    std::vector<std::string> validate_authorizations() const;

    // What the cli_login page redirects with.
    void set_login_answer(LoginAnswer answer);
    // The query parameters of each cli_login request, in arrival order.
    std::vector<std::map<std::string, std::string>> login_requests() const;

    // Serves today's OAuth login for `account`; tokens live `expires_in` s.
    void enable_oauth(OAuthAccount account = {}, long long expires_in = 3600);
    // The authorize page answers `error=access_denied` instead of a code.
    void set_oauth_denied(bool denied);
    // Refresh answers leave out `refresh_token` (the client keeps its own).
    void set_refresh_omits_refresh_token(bool omit);
    // A code issued to someone who consented with their own `challenge`
    // (another party's login: the CSRF case).
    std::string issue_code(const std::string& challenge, const std::string& redirect_uri);
    // Makes `access_token`/`refresh_token` known, as if issued earlier (a
    // file the Python CLI wrote).
    void add_tokens(const std::string& access_token, const std::string& refresh_token);
    bool is_access_token(const std::string& token) const;
    // Every access and refresh token issued so far, oldest first.
    std::vector<std::string> issued_tokens() const;
    // The form fields of each POST /oauth/token, in arrival order.
    std::vector<std::map<std::string, std::string>> token_requests() const;

private:
    FakeReply handle(const FakeRequest& req) override;
    bool needs_authorization(const FakeRequest& req) const override;
    FakeReply validate(const FakeRequest& req);
    FakeReply cli_login(const FakeRequest& req);
    FakeReply oauth(const FakeRequest& req);
    std::string new_token(const char* kind);

    struct IssuedCode {
        std::string challenge;
        std::string redirect_uri;
        bool used = false;
    };
    std::optional<OAuthAccount> oauth_account_;
    long long expires_in_ = 3600;
    bool oauth_denied_ = false;
    bool refresh_omits_refresh_ = false;
    int serial_ = 0;
    std::map<std::string, IssuedCode> codes_;
    std::vector<std::string> access_tokens_;
    std::vector<std::string> refresh_tokens_;
    std::vector<std::string> issued_;

    std::vector<FakeCloudWorker> workers_;
    int page_size_ = 0;
    SseScript script_;
    std::map<std::string, std::string> principals_;
    int forced_validate_status_ = 0;
    std::chrono::milliseconds validate_delay_{0};
    LoginAnswer login_answer_;
};

}  // namespace arcade::testing
