#include "agent/kube/client.h"

#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/runtime/log.h"

namespace slo::kube {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

json ApiResult::json() const { return json::parse(body, nullptr, false); }

std::string describe_api_error(const std::string& what, int status, const std::string& body) {
  std::string message;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) message = j["message"].get<std::string>();
  std::string out = what + ": " + std::to_string(status);
  switch (status) {
    case 401:
      out += " Unauthorized: token rejected (expired or revoked service-account token, or wrong kubeconfig user)";
      break;
    case 403:
      out += " Forbidden: RBAC does not allow this for the agent's service account (see deploy/ ClusterRole)";
      break;
    case 404: out += " Not Found"; break;
    case 409: out += " Conflict"; break;
    case 410: out += " Gone: resourceVersion too old, relisting"; break;
    case 422: out += " Invalid"; break;
    case 429: out += " Too Many Requests"; break;
    default: break;
  }
  if (!message.empty()) out += ": " + message;
  return out;
}

std::unique_ptr<Client> Client::create(asio::io_context& io, ClientConfig cfg, ClientOptions opts,
                                       std::string* error) {
  std::string err;
  auto tls = TlsClientContext::create(cfg.tls, &err);
  if (!tls) {
    *error = cfg.source + ": " + err;
    return nullptr;
  }
  return std::unique_ptr<Client>(new Client(io, std::move(cfg), std::move(opts), std::move(tls)));
}

Client::Client(asio::io_context& io, ClientConfig cfg, ClientOptions opts, std::shared_ptr<TlsClientContext> tls)
    : io_(io),
      cfg_(std::move(cfg)),
      opts_(std::move(opts)),
      tls_(std::move(tls)),
      limiter_(opts_.qps, opts_.burst, opts_.clock) {}

std::string Client::token() {
  std::string err;
  std::string t = cfg_.token.token(&err);
  if (!err.empty()) log::once(log::Level::warn, "kube", "token:" + err, err + " (keeping the last token)");
  return t;
}

asio::awaitable<void> Client::rate_limit() {
  auto wait = limiter_.reserve();
  if (wait.count() > 0) {
    asio::steady_timer t(io_);
    t.expires_after(wait);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<ApiResult> Client::async_call(Verb verb, http::verb method, std::string target, std::string body,
                                              std::string content_type) {
  co_await rate_limit();
  counters_.add(verb);
  HttpRequest req;
  req.verb = method;
  req.target = std::move(target);
  req.body = std::move(body);
  req.content_type = std::move(content_type);
  req.bearer_token = token();
  req.user_agent = opts_.user_agent;
  std::string what = std::string(http::to_string(method)) + " " + req.target;
  HttpResponse r = co_await async_https(tls_, cfg_.endpoint, std::move(req), opts_.timeouts);
  ApiResult out;
  out.status = r.status;
  out.body = std::move(r.body);
  if (!r.transport_ok()) {
    out.error = what + ": " + r.error;
    if (r.failure == Failure::tls && tls_->verify())
      out.error += " (check the cluster CA: " + (cfg_.tls.ca_file.empty() ? std::string("inline/system") : cfg_.tls.ca_file) + ")";
  } else if (!r.ok()) {
    out.error = describe_api_error(what, r.status, out.body);
  } else {
    out.ok = true;
  }
  co_return out;
}

asio::awaitable<StreamResult> Client::async_watch(std::string target, std::chrono::milliseconds idle_timeout,
                                                  std::function<bool(std::string_view)> on_line,
                                                  std::shared_ptr<CancelSlot> slot) {
  co_await rate_limit();
  counters_.add(Verb::watch);
  HttpRequest req;
  req.target = std::move(target);
  req.bearer_token = token();
  req.user_agent = opts_.user_agent;
  Timeouts t{opts_.timeouts.connect, idle_timeout};
  co_return co_await async_https_lines(tls_, cfg_.endpoint, std::move(req), t, std::move(on_line), std::move(slot));
}

ApiResult Client::call(Verb verb, http::verb method, std::string target, std::string body, std::string content_type) {
  auto p = std::make_shared<std::promise<ApiResult>>();
  auto f = p->get_future();
  asio::co_spawn(io_, async_call(verb, method, std::move(target), std::move(body), std::move(content_type)),
                 [p](std::exception_ptr e, ApiResult r) {
                   if (e) {
                     r = ApiResult{};
                     r.error = "internal error in API request";
                   }
                   p->set_value(std::move(r));
                 });
  return f.get();
}

ApiResult Client::get(const std::string& path) { return call(Verb::get, http::verb::get, path); }

ApiResult Client::patch_merge(const std::string& path, const json& patch) {
  return call(Verb::patch, http::verb::patch, path, patch.dump(), "application/merge-patch+json");
}

ApiResult Client::patch_node_status(const std::string& node, const json& patch) {
  return patch_merge("/api/v1/nodes/" + url_escape(node) + "/status", patch);
}

ApiResult Client::patch_node_batch_resources(const std::string& node, int64_t cpu_millis, int64_t memory_bytes) {
  return patch_node_status(node, node_batch_resources_patch(cpu_millis, memory_bytes));
}

ApiResult Client::patch_node_annotations(const std::string& node,
                                         const std::map<std::string, std::optional<std::string>>& annotations) {
  return patch_merge("/api/v1/nodes/" + url_escape(node), node_annotations_patch(annotations));
}

ApiResult Client::create_event(const EventSpec& e) {
  return call(Verb::create, http::verb::post, "/api/v1/namespaces/" + url_escape(e.namespace_) + "/events",
              pod_event(e, std::chrono::system_clock::now()).dump(), "application/json");
}

ApiResult Client::evict_pod(const std::string& ns, const std::string& name, std::optional<int64_t> grace) {
  return call(Verb::create, http::verb::post,
              "/api/v1/namespaces/" + url_escape(ns) + "/pods/" + url_escape(name) + "/eviction",
              pod_eviction(ns, name, grace).dump(), "application/json");
}

KubeThread::KubeThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

KubeThread::~KubeThread() { stop(); }

void KubeThread::stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace slo::kube
