// The sloctl API: gRPC over a private Unix socket. The server owns the listening socket itself, checks the peer's
// uid with SO_PEERCRED on every accepted connection and hands only allowed connections to gRPC
// (grpc::AddInsecureChannelFromFd), because gRPC C++ offers no hook that sees the peer's credentials.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace prometheus {
class Registry;
}

namespace slo::agent {

class AgentQueries;

class GrpcApiServer {
 public:
  static constexpr const char* kDefaultSocket = "/run/sloagent/sloagent.sock";

  // `metrics` may be null; otherwise the API's counters are registered there.
  GrpcApiServer(std::string socket_path, AgentQueries& queries,
                std::shared_ptr<prometheus::Registry> metrics = nullptr);
  ~GrpcApiServer();  // stop()
  GrpcApiServer(const GrpcApiServer&) = delete;
  GrpcApiServer& operator=(const GrpcApiServer&) = delete;

  // Prepares the 0700 directory, binds the 0600 socket, starts gRPC and the accept thread. Returns an error text
  // naming the path (and errno) on failure; nothing is left running then.
  std::optional<std::string> start();
  // Stops accepting, removes the socket file (if it is still ours) and shuts gRPC down (in-flight calls get 2 s).
  void stop();
  const std::string& socket_path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slo::agent
