#include "agent/api/api_metrics.h"

#include <chrono>

namespace slo::api {

void register_build_info(prometheus::Registry& r, const std::string& version) {
  prometheus::BuildGauge()
      .Name("sloagent_build_info")
      .Help("Always 1; the label carries the agent version")
      .Register(r)
      .Add({{"version", version}})
      .Set(1);
  // Kept from the first registration so that a second server on the same registry does not move it.
  auto& start = prometheus::BuildGauge()
                    .Name("sloagent_start_time_seconds")
                    .Help("Unix time at which the agent process started serving, seconds")
                    .Register(r)
                    .Add({});
  if (start.Value() == 0) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    start.Set(std::chrono::duration<double>(now).count());
  }
}

ApiMetrics::ApiMetrics(prometheus::Registry& r)
    : calls_(prometheus::BuildCounter()
                 .Name("sloagent_api_requests_total")
                 .Help("gRPC API calls on the Unix socket by method and gRPC status code")
                 .Register(r)),
      connections_(prometheus::BuildCounter()
                       .Name("sloagent_api_connections_total")
                       .Help("Connections to the API socket by result (accepted, refused: peer uid not root nor the "
                             "agent's, error: no peer credentials)")
                       .Register(r)),
      http_(prometheus::BuildCounter()
                .Name("sloagent_http_requests_total")
                .Help("Requests to the metrics/health HTTP endpoint by path and HTTP status code")
                .Register(r)) {}

void ApiMetrics::count_call(std::string_view method, std::string_view code) {
  calls_.Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
}

void ApiMetrics::count_connection(std::string_view result) {
  connections_.Add({{"result", std::string(result)}}).Increment();
}

void ApiMetrics::count_http(std::string_view path, unsigned code) {
  http_.Add({{"path", std::string(path)}, {"code", std::to_string(code)}}).Increment();
}

}  // namespace slo::api
