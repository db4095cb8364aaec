// A fake API server plus a Client on its own io thread, torn down in the safe order (io thread first, so no
// coroutine touches the client after it is gone), and a thread-safe recorder of informer events.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/kube/client.h"
#include "agent/kube/informer.h"
#include "tests/fakes/fake_apiserver.h"

namespace slo::test {

inline fakes::FakeApiServer::Options fast_server() {
  fakes::FakeApiServer::Options o;
  o.bookmark_interval = std::chrono::milliseconds(100);
  return o;
}

struct ApiFixture {
  fakes::FakeApiServer server;
  std::unique_ptr<kube::KubeThread> thread;
  std::unique_ptr<kube::Client> client;

  explicit ApiFixture(fakes::FakeApiServer::Options o = fast_server(), kube::ClientOptions co = {})
      : server(std::move(o)) {
    server.start();
    thread = std::make_unique<kube::KubeThread>();
    std::string err;
    client = kube::Client::create(thread->io(), config(), std::move(co), &err);
    REQUIRE(client);
  }
  ~ApiFixture() {
    thread->stop();
    client.reset();
    server.stop();
  }
  kube::ClientConfig config() const {
    kube::ClientConfig c;
    c.endpoint = {"127.0.0.1", server.port()};
    c.tls.ca_pem = server.ca_pem();
    c.token = kube::TokenSource::fixed(server.token());
    c.source = "test";
    return c;
  }
};

// Informer options that make a test fast: short backoff, short watches.
inline kube::InformerOptions fast_informer(std::string path) {
  kube::InformerOptions o;
  o.path = std::move(path);
  o.watch_timeout_min = std::chrono::seconds(20);
  o.watch_timeout_max = std::chrono::seconds(30);
  o.backoff.initial = std::chrono::milliseconds(50);
  o.backoff.max = std::chrono::milliseconds(400);
  return o;
}

struct SeenEvent {
  kube::EventType type;
  std::string key;
  std::string rv;
  nlohmann::json object;
};

class EventLog {
 public:
  kube::Informer::Callback callback() {
    return [this](const kube::WatchEvent& e) {
      std::lock_guard lk(mu_);
      events_.push_back(SeenEvent{e.type, e.key, e.resource_version, *e.object});
      cv_.notify_all();
    };
  }
  std::vector<SeenEvent> events() const {
    std::lock_guard lk(mu_);
    return events_;
  }
  bool has(kube::EventType t, const std::string& key) const {
    std::lock_guard lk(mu_);
    for (const auto& e : events_)
      if (e.type == t && e.key == key) return true;
    return false;
  }
  size_t count(kube::EventType t) const {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& e : events_) n += e.type == t;
    return n;
  }
  // Waits until pred() holds (re-checked on every event and every 20 ms).
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds d = std::chrono::seconds(10)) const {
    auto until = std::chrono::steady_clock::now() + d;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(20));
    }
    return true;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SeenEvent> events_;
};

inline nlohmann::json pod(const std::string& ns, const std::string& name, const std::string& node,
                          const std::string& phase = "Running") {
  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", name}}}}},
                        {"spec", {{"nodeName", node}}},
                        {"status", {{"phase", phase}}}};
}

inline nlohmann::json node(const std::string& name) {
  return nlohmann::json{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}},
                        {"status", {{"capacity", {{"cpu", "8"}}}, {"allocatable", {{"cpu", "8"}}}}}};
}

}  // namespace slo::test
