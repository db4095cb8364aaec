#include "tests/fakes/fake_kubelet.h"

#include <fstream>
#include <sstream>

namespace slo::fakes {

FakeKubelet::FakeKubelet(std::string token, uint16_t port)
    : token_(std::move(token)), server_([this](const HttpRequest& r, HttpConnection& c) { handle(r, c); }, port) {}

void FakeKubelet::set_pods_json(std::string json) {
  std::lock_guard lk(mu_);
  pods_json_ = std::move(json);
}

void FakeKubelet::set_token(std::string token) {
  std::lock_guard lk(mu_);
  token_ = std::move(token);
}

void FakeKubelet::set_pods_file(std::string path) {
  std::lock_guard lk(mu_);
  pods_file_ = std::move(path);
}

std::string FakeKubelet::last_authorization() const {
  std::lock_guard lk(mu_);
  return last_authorization_;
}

void FakeKubelet::handle(const HttpRequest& req, HttpConnection& conn) {
  ++requests_;
  std::string token, pods, file;
  {
    std::lock_guard lk(mu_);
    last_authorization_ = req.header("authorization");
    token = token_;
    pods = pods_json_;
    file = pods_file_;
  }
  Mode mode = mode_.load();
  if (mode == Mode::drop) {
    conn.abort();
    return;
  }
  if (mode == Mode::slow && !conn.sleep_for(std::chrono::milliseconds(delay_ms_.load()))) return;
  // Like the kubelet: authentication first (401), then authorisation (403).
  if (mode == Mode::unauthorized || req.header("authorization") != "Bearer " + token) {
    conn.respond(401, "text/plain; charset=utf-8", "Unauthorized");
    return;
  }
  ++authorized_;
  if (mode == Mode::forbidden) {
    conn.respond(403, "text/plain; charset=utf-8",
                 "Forbidden (user=system:serviceaccount:kube-system:sloagent, verb=get, resource=nodes, "
                 "subresource=proxy)");
    return;
  }
  if (req.method != "GET" || req.path != "/pods") {
    conn.respond(404, "text/plain; charset=utf-8", "404 page not found");
    return;
  }
  if (!file.empty()) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    pods = ss.str();
  }
  if (mode == Mode::broken_json) pods = pods.substr(0, pods.size() / 2);
  conn.respond(200, "application/json", pods);
}

}  // namespace slo::fakes
