// A fake kubelet: HTTPS GET /pods with bearer-token auth (like the real one on :10250), plus failure modes the
// kubelet pod source must survive: slow responses, broken JSON, 401, 403, dropped connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "tests/fakes/https_server.h"

namespace slo::fakes {

class FakeKubelet {
 public:
  enum class Mode {
    ok,            // 200 with the configured PodList
    slow,          // waits delay() before answering (for client timeouts)
    broken_json,   // 200 with a truncated document
    unauthorized,  // 401 whatever the token (a rejected token)
    forbidden,     // 403 (valid token, RBAC missing nodes/proxy)
    drop,          // closes the connection without a response
  };

  explicit FakeKubelet(std::string token = "kubelet-test-token", uint16_t port = 0);
  void start() { server_.start(); }
  void stop() { server_.stop(); }
  uint16_t port() const { return server_.port(); }
  const std::string& ca_pem() const { return server_.ca_pem(); }

  void set_pods_json(std::string json);
  // The token the kubelet accepts; a request with another one gets 401 (as after a token rotation).
  void set_token(std::string token);
  void set_mode(Mode m) { mode_ = m; }
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }
  // For the standalone wrapper: serve this file's content (re-read per request) instead of set_pods_json().
  void set_pods_file(std::string path);

  uint64_t requests() const { return requests_.load(); }
  uint64_t authorized_requests() const { return authorized_.load(); }
  std::string last_authorization() const;

 private:
  void handle(const HttpRequest& req, HttpConnection& conn);

  mutable std::mutex mu_;
  std::string token_;
  std::string pods_json_ = R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})";
  std::string pods_file_;
  std::string last_authorization_;
  std::atomic<Mode> mode_{Mode::ok};
  std::atomic<int64_t> delay_ms_{2000};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> authorized_{0};
  HttpsServer server_;
};

}  // namespace slo::fakes
