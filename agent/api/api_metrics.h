// Metrics of the API surfaces themselves (the gRPC socket and the HTTP endpoints) and the build-info series.
// Registered into the runtime's registry; registering twice on the same registry returns the same families.
#pragma once

#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace slo::api {

// sloagent_build_info{version} 1 and sloagent_start_time_seconds (Unix time the process started serving).
void register_build_info(prometheus::Registry& r, const std::string& version);

class ApiMetrics {
 public:
  explicit ApiMetrics(prometheus::Registry& r);
  // gRPC calls by method (Status, Pods, ...) and gRPC status code name (OK, NOT_FOUND, ...).
  void count_call(std::string_view method, std::string_view code);
  // Connections on the Unix socket: result accepted | refused (peer uid not allowed) | error (no peer credentials).
  void count_connection(std::string_view result);
  // HTTP requests by path (/metrics, /healthz, /readyz, other) and status code.
  void count_http(std::string_view path, unsigned code);

 private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& connections_;
  prometheus::Family<prometheus::Counter>& http_;
};

}  // namespace slo::api
