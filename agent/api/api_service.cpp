#include "agent/api/api_service.h"

#include <exception>

#include "agent/runtime/log.h"
#include "proto/convert.h"

namespace slo::api {
namespace v1 = sloagent::v1;

const char* grpc_code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "OTHER";
  }
}

namespace {
// Invalid UTF-8 (a cgroup path is bytes) must not fail the call: proto3 strings have to be UTF-8.
std::string to_text(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
}  // namespace

ApiService::ApiService(agent::AgentQueries& queries, std::shared_ptr<ApiMetrics> metrics)
    : q_(queries), metrics_(std::move(metrics)) {}

// The runtime answers from snapshots and should not throw; if it does, the caller gets INTERNAL with the reason
// instead of a dead connection, and the agent keeps serving.
template <class F>
grpc::Status ApiService::guarded(const char* method, F&& body) {
  grpc::Status st;
  try {
    st = body();
  } catch (const std::exception& e) {
    log::warn("api", std::string(method) + " failed: " + e.what());
    st = grpc::Status(grpc::INTERNAL, std::string("agent error in ") + method + ": " + e.what());
  }
  if (metrics_) metrics_->count_call(method, grpc_code_name(st.error_code()));
  return st;
}

grpc::Status ApiService::Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusReply* out) {
  return guarded("Status", [&] {
    *out = status_from_json(q_.status());
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Pods(grpc::ServerContext*, const v1::PodsRequest*, v1::PodsReply* out) {
  return guarded("Pods", [&] {
    auto pods = q_.pods();
    // An object instead of the array: the event loop did not answer (stopping, or stuck for 10 s).
    if (pods.is_object() && pods.contains("error")) return grpc::Status(grpc::UNAVAILABLE, pods["error"].get<std::string>());
    *out = pods_from_json(pods);
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Explain(grpc::ServerContext*, const v1::ExplainRequest* in, v1::JsonReply* out) {
  return guarded("Explain", [&] {
    const std::string& key = in->pod();
    auto slash = key.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == key.size() ||
        key.find('/', slash + 1) != std::string::npos)
      return grpc::Status(grpc::INVALID_ARGUMENT, "pod must be NAMESPACE/NAME, got '" + key + "'");
    auto j = q_.explain(key);
    if (!j) return grpc::Status(grpc::NOT_FOUND, "pod " + key + " is not known to the agent");
    out->set_json(to_text(*j));
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Config(grpc::ServerContext*, const v1::JsonRequest*, v1::JsonReply* out) {
  return guarded("Config", [&] {
    out->set_json(to_text(q_.config()));
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Pools(grpc::ServerContext*, const v1::JsonRequest*, v1::JsonReply* out) {
  return guarded("Pools", [&] {
    out->set_json(to_text(q_.pools()));
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Rdt(grpc::ServerContext*, const v1::JsonRequest*, v1::JsonReply* out) {
  return guarded("Rdt", [&] {
    out->set_json(to_text(q_.rdt()));
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Reclaimed(grpc::ServerContext*, const v1::JsonRequest*, v1::JsonReply* out) {
  return guarded("Reclaimed", [&] {
    out->set_json(to_text(q_.reclaimed()));
    return grpc::Status::OK;
  });
}

grpc::Status ApiService::Restore(grpc::ServerContext*, const v1::RestoreRequest*, v1::JsonReply* out) {
  return guarded("Restore", [&] {
    log::info("api", "restore requested over the API");
    out->set_json(to_text(q_.restore()));
    return grpc::Status::OK;
  });
}

}  // namespace slo::api
