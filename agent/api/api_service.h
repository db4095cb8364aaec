// The SloAgent gRPC service: each call maps to one AgentQueries method. Status and Pods are converted into typed
// messages, the controller- and config-shaped answers travel as JSON text (see proto/sloagent.proto).
#pragma once

#include <memory>

#include "agent/api/api_metrics.h"
#include "agent/runtime/agent_queries.h"
#include "proto/sloagent.grpc.pb.h"

namespace slo::api {

class ApiService final : public sloagent::v1::SloAgent::Service {
 public:
  // `metrics` may be null (no counting).
  ApiService(agent::AgentQueries& queries, std::shared_ptr<ApiMetrics> metrics);

  grpc::Status Status(grpc::ServerContext*, const sloagent::v1::StatusRequest*, sloagent::v1::StatusReply*) override;
  grpc::Status Pods(grpc::ServerContext*, const sloagent::v1::PodsRequest*, sloagent::v1::PodsReply*) override;
  grpc::Status Explain(grpc::ServerContext*, const sloagent::v1::ExplainRequest*, sloagent::v1::JsonReply*) override;
  grpc::Status Config(grpc::ServerContext*, const sloagent::v1::JsonRequest*, sloagent::v1::JsonReply*) override;
  grpc::Status Pools(grpc::ServerContext*, const sloagent::v1::JsonRequest*, sloagent::v1::JsonReply*) override;
  grpc::Status Rdt(grpc::ServerContext*, const sloagent::v1::JsonRequest*, sloagent::v1::JsonReply*) override;
  grpc::Status Reclaimed(grpc::ServerContext*, const sloagent::v1::JsonRequest*, sloagent::v1::JsonReply*) override;
  grpc::Status Restore(grpc::ServerContext*, const sloagent::v1::RestoreRequest*, sloagent::v1::JsonReply*) override;

 private:
  template <class F>
  grpc::Status guarded(const char* method, F&& body);

  agent::AgentQueries& q_;
  std::shared_ptr<ApiMetrics> metrics_;
};

// "OK", "NOT_FOUND", ... for metric labels and messages.
const char* grpc_code_name(grpc::StatusCode c);

}  // namespace slo::api
