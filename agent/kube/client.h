// The Kubernetes API client: requests on an Asio io_context (the agent's, or a KubeThread's), bearer token re-read
// on rotation, a client-side token bucket and a per-verb request counter. Coroutine calls for code on the io
// thread; blocking wrappers for other threads (never call those from the io thread: they would wait on
// themselves).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/kube/api_objects.h"
#include "agent/kube/https.h"
#include "agent/kube/kube_config.h"
#include "agent/kube/rate_limiter.h"
#include "agent/kube/request_counter.h"

namespace slo::kube {

struct ClientOptions {
  double qps = 5;     // client-go's defaults
  double burst = 10;
  Timeouts timeouts{std::chrono::seconds(5), std::chrono::seconds(30)};
  TokenBucket::Clock clock = nullptr;  // tests: simulated time for the limiter
  std::string user_agent = "sloagent";
};

struct ApiResult {
  bool ok = false;
  int status = 0;       // 0 on a transport failure
  std::string body;
  std::string error;    // one line when !ok
  nlohmann::json json() const;  // parsed body (discarded value when not JSON)
};

// "401 Unauthorized: token rejected …", "403 Forbidden: RBAC …" etc. from a status and a Status body.
std::string describe_api_error(const std::string& what, int status, const std::string& body);

class Client {
 public:
  // nullptr with `error` set when the TLS material cannot be loaded.
  static std::unique_ptr<Client> create(boost::asio::io_context& io, ClientConfig cfg, ClientOptions opts,
                                        std::string* error);

  boost::asio::io_context& io() { return io_; }
  const ClientConfig& config() const { return cfg_; }
  const ClientOptions& options() const { return opts_; }
  RequestCounter& counters() { return counters_; }
  TokenBucket& limiter() { return limiter_; }

  // --- on the io thread ---
  boost::asio::awaitable<ApiResult> async_call(Verb verb, boost::beast::http::verb method, std::string target,
                                               std::string body = "", std::string content_type = "");
  boost::asio::awaitable<StreamResult> async_watch(std::string target, std::chrono::milliseconds idle_timeout,
                                                   std::function<bool(std::string_view)> on_line,
                                                   std::shared_ptr<CancelSlot> slot);

  // --- blocking, from any other thread ---
  ApiResult call(Verb verb, boost::beast::http::verb method, std::string target, std::string body = "",
                 std::string content_type = "");
  ApiResult get(const std::string& path);
  ApiResult patch_merge(const std::string& path, const nlohmann::json& patch);
  ApiResult patch_node_status(const std::string& node, const nlohmann::json& patch);
  ApiResult patch_node_batch_resources(const std::string& node, int64_t batch_cpu_millis, int64_t batch_memory_bytes);
  ApiResult patch_node_annotations(const std::string& node,
                                   const std::map<std::string, std::optional<std::string>>& annotations);
  ApiResult create_event(const EventSpec& e);
  // 201: evicted; 429: a PodDisruptionBudget forbids it now (retry later); 404: already gone.
  ApiResult evict_pod(const std::string& ns, const std::string& name, std::optional<int64_t> grace_seconds);

  std::string token();  // current bearer token (re-read when the file changed)

 private:
  Client(boost::asio::io_context& io, ClientConfig cfg, ClientOptions opts, std::shared_ptr<TlsClientContext> tls);
  boost::asio::awaitable<void> rate_limit();

  boost::asio::io_context& io_;
  ClientConfig cfg_;
  ClientOptions opts_;
  std::shared_ptr<TlsClientContext> tls_;
  TokenBucket limiter_;
  RequestCounter counters_;
};

// An io_context on its own thread, for when the agent's runtime does not lend one.
class KubeThread {
 public:
  KubeThread();
  ~KubeThread();
  boost::asio::io_context& io() { return io_; }
  void stop();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace slo::kube
