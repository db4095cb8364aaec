// The HTTP endpoint for Prometheus and kubelet probes: /metrics (text exposition of the runtime's registry),
// /healthz (the process answers) and /readyz (AgentQueries::ready(): 200 after the first full tick, 503 before).
//
// A small Boost.Beast server rather than prometheus-cpp's Exposer: Exposer (civetweb) serves only collectables, so
// /readyz could not answer 503, and it would add a second HTTP stack and its thread pool to the agent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace prometheus {
class Registry;
}

namespace slo::agent {

class AgentQueries;

class MetricsServer {
 public:
  static constexpr const char* kDefaultAddr = "127.0.0.1:9464";

  // Registers sloagent_build_info, sloagent_start_time_seconds and the HTTP request counter in `registry`.
  MetricsServer(std::string addr, std::shared_ptr<prometheus::Registry> registry, const AgentQueries& queries);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts serving on its own thread; logs the bound address (with the real port when 0 was asked).
  // Returns an error text naming the address on failure.
  std::optional<std::string> start();
  void stop();
  uint16_t port() const;  // the bound port (valid after start)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slo::agent
