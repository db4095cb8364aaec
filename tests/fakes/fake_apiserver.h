// A fake Kubernetes API server speaking the real wire protocol, for in-process tests (127.0.0.1:0) and, through
// fake_apiserver_main.cpp, for end-to-end tests of the real binary.
//
// What it models: one global resourceVersion counter; list (with fieldSelector / labelSelector); watch as a chunked
// stream of line-delimited JSON events from a resourceVersion, with BOOKMARKs, timeoutSeconds, and 410 Gone (HTTP
// status or an ERROR event, switchable) for a compacted resourceVersion; get/create/merge-patch/put/delete of
// objects (status subresource included; server-side apply on status with per-field-manager ownership of
// status.nodes entries); metadata.generation bumped on spec changes; Events; the Eviction subresource. Faults on
// demand: 401/403, slow responses, dropped watch connections, paused watches, the next N requests failing with a
// status.
// Every request is recorded (method, path, query, content type, body, status) for assertions.
//
// Resource paths: /api/v1/<res>, /api/v1/namespaces/<ns>/<res>[/<name>[/<sub>]], and /apis/<group>/<version>/… alike.
// Control endpoints (no auth, for the standalone wrapper): POST /fake/compact, /fake/drop-watches,
// /fake/auth?mode=ok|401|403, /fake/pause?on=0|1, /fake/gone-as-error?on=0|1; GET /fake/requests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/https_server.h"

namespace slo::fakes {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> params;
  std::string content_type;
  std::string body;
  int status = 0;  // 0 while in flight (an open watch), or when the connection died before an answer
};

class FakeApiServer {
 public:
  enum class Auth { ok, unauthorized, forbidden };
  struct Options {
    std::string token = "api-test-token";
    uint16_t port = 0;
    std::chrono::milliseconds bookmark_interval{1000};
    // Caps a watch's lifetime (0: honour the client's timeoutSeconds) so tests see server-side timeouts quickly.
    std::chrono::milliseconds max_watch{0};
    std::string state_dir;  // when set: every request appended to <state_dir>/requests.jsonl
  };

  FakeApiServer();
  explicit FakeApiServer(Options opts);
  ~FakeApiServer();
  void start() { server_.start(); }
  void stop();
  uint16_t port() const { return server_.port(); }
  const std::string& ca_pem() const { return server_.ca_pem(); }
  const std::string& token() const { return opts_.token; }

  // --- objects (as if another client wrote them; each emits a watch event) ---
  // `collection` is a list path such as "/api/v1/pods" or "/api/v1/namespaces/default/pods"; the object's own
  // metadata.namespace wins. Returns the new resourceVersion.
  uint64_t create(const std::string& collection, nlohmann::json obj);
  uint64_t update(const std::string& collection, nlohmann::json obj);  // replace (MODIFIED)
  bool remove(const std::string& collection, const std::string& ns, const std::string& name);  // DELETED
  std::optional<nlohmann::json> get(const std::string& collection, const std::string& ns,
                                    const std::string& name) const;
  uint64_t resource_version() const;
  // Forgets history: a watch from any resourceVersion older than the current one now gets 410 Gone.
  void compact();

  // --- faults ---
  void set_auth(Auth a) { auth_ = a; }
  void set_gone_as_error_event(bool on) { gone_as_error_event_ = on; }
  void drop_watches();  // cuts every open watch stream mid-flight (no terminating chunk)
  void pause_watches(bool on);  // open streams send nothing (events pile up in history) until resumed
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }  // before every response
  void fail_next(int count, int status, std::string path_substring = "");
  void set_eviction_status(int status) { eviction_status_ = status; }  // 201 by default; 429 = PDB blocks

  // --- recording ---
  std::vector<RecordedRequest> requests() const;
  std::vector<RecordedRequest> requests(const std::string& method, const std::string& path_substring) const;
  size_t active_watches() const { return active_watches_.load(); }
  uint64_t watch_requests() const { return watch_requests_.load(); }
  // Waits (up to d) until at least n watch streams are open; for tests that must act on a live stream.
  bool wait_for_watches(size_t n, std::chrono::milliseconds d) const;

 private:
  struct ResPath {
    bool ok = false;
    std::string type_key;  // "/api/v1/pods"
    std::string ns;
    std::string name;
    std::string sub;
  };
  struct HistoryEntry {
    uint64_t rv;
    std::string type_key;
    std::string type;  // ADDED / MODIFIED / DELETED
    nlohmann::json object;
  };

  static ResPath parse_path(const std::string& path);
  static std::string object_key(const nlohmann::json& obj);
  uint64_t put_locked(const std::string& type_key, nlohmann::json obj, const std::string& type);
  bool remove_locked(const std::string& type_key, const std::string& key);
  std::string list_kind_locked(const std::string& type_key) const;

  void handle(const HttpRequest& req, HttpConnection& conn);
  bool handle_control(const HttpRequest& req, HttpConnection& conn);
  int serve_api(const HttpRequest& req, HttpConnection& conn);
  int serve_watch(const HttpRequest& req, const ResPath& rp, HttpConnection& conn);
  // Server-side apply (application/apply-patch+yaml, JSON body) on a status subresource: status.nodes is a list-map
  // keyed by `node` whose entries belong to the field manager that applied them; other status fields: last wins.
  int serve_status_apply(const HttpRequest& req, const ResPath& rp, const nlohmann::json& body, HttpConnection& conn);
  size_t record_start(const HttpRequest& req);  // before serving, so open watches are visible
  void record_end(size_t index, int status);

  Options opts_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t rv_ = 1000;
  uint64_t compacted_rv_ = 0;
  std::map<std::string, std::map<std::string, nlohmann::json>> store_;  // type_key → ns/name → object
  std::vector<HistoryEntry> history_;
  // type_key + "\n" + object key → field manager → status.nodes keys it owns (server-side apply on status)
  std::map<std::string, std::map<std::string, std::set<std::string>>> apply_owners_;
  std::vector<RecordedRequest> recorded_;
  uint64_t drop_generation_ = 0;
  bool paused_ = false;
  int fail_count_ = 0;
  int fail_status_ = 0;
  std::string fail_path_;
  uint64_t uid_counter_ = 0;
  std::atomic<Auth> auth_{Auth::ok};
  std::atomic<bool> gone_as_error_event_{false};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<int> eviction_status_{201};
  std::atomic<size_t> active_watches_{0};
  std::atomic<uint64_t> watch_requests_{0};
  HttpsServer server_;
};

// Field selector ("metadata.name=x,spec.nodeName!=y") and label selector ("a=b,c!=d,e") matching, as the fake
// applies them (equality-based only).
bool matches_field_selector(const nlohmann::json& obj, const std::string& selector);
bool matches_label_selector(const nlohmann::json& obj, const std::string& selector);

// A kubeconfig (token auth, CA data inline) pointing at a fake server, for the real binary's --kubeconfig.
std::string make_kubeconfig(uint16_t port, const std::string& ca_pem, const std::string& token);

}  // namespace slo::fakes
