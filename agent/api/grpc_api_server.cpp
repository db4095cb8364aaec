#include "agent/api/grpc_api_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include "agent/api/api_metrics.h"
#include "agent/api/api_service.h"
#include "agent/api/unix_socket.h"
#include "agent/runtime/log.h"

namespace slo::agent {

namespace {

std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

struct GrpcApiServer::Impl {
  AgentQueries& queries;
  std::shared_ptr<prometheus::Registry> registry;
  std::shared_ptr<api::ApiMetrics> metrics;
  std::unique_ptr<api::ApiService> service;
  std::unique_ptr<grpc::Server> server;
  api::Listener listener;
  int wake_fd = -1;
  std::thread accept_thread;
  uid_t agent_uid = ::geteuid();
  // Refusals are security-relevant but a looping client must not flood the log: one line per 10 s at most.
  std::chrono::steady_clock::time_point last_refusal_log{};
  uint64_t refusals_unlogged = 0;

  Impl(AgentQueries& q, std::shared_ptr<prometheus::Registry> r) : queries(q), registry(std::move(r)) {}

  void refuse(int fd, const api::PeerCred& cred) {
    // Said on the wire before closing so that sloctl can tell "refused" from "agent crashed"; a gRPC client just
    // sees a broken connection.
    std::string note = "sloagent: permission denied: peer uid " + std::to_string(cred.uid) +
                       " is neither root nor the agent's uid " + std::to_string(agent_uid) + "\n";
    (void)::send(fd, note.data(), note.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(fd);
    if (metrics) metrics->count_connection("refused");
    auto now = std::chrono::steady_clock::now();
    ++refusals_unlogged;
    if (now - last_refusal_log >= std::chrono::seconds(10)) {
      log::warn("api", "refused API connection from pid " + std::to_string(cred.pid) + " uid " +
                           std::to_string(cred.uid) + " (only root or uid " + std::to_string(agent_uid) +
                           " may connect); refusals since last report: " + std::to_string(refusals_unlogged));
      last_refusal_log = now;
      refusals_unlogged = 0;
    }
  }

  void accept_loop() {
    pollfd fds[2] = {{listener.fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    for (;;) {
      int n = ::poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        log::error("api", std::string("poll on the API socket failed: ") + std::strerror(errno));
        return;
      }
      if (fds[1].revents) return;
      if (!(fds[0].revents & POLLIN)) continue;
      int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          log::once(log::Level::error, "api", "accept-emfile",
                    "API accept failed: out of file descriptors; retrying");
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        continue;  // EAGAIN, ECONNABORTED, EINTR: the client went away
      }
      auto cred = api::peer_cred(fd);
      if (!cred) {
        ::close(fd);
        if (metrics) metrics->count_connection("error");
        continue;
      }
      if (!api::peer_allowed(cred->uid, agent_uid)) {
        refuse(fd, *cred);
        continue;
      }
      if (metrics) metrics->count_connection("accepted");
      grpc::AddInsecureChannelFromFd(server.get(), fd);  // takes ownership of fd
    }
  }
};

GrpcApiServer::GrpcApiServer(std::string socket_path, AgentQueries& queries,
                             std::shared_ptr<prometheus::Registry> metrics)
    : path_(std::move(socket_path)), impl_(std::make_unique<Impl>(queries, std::move(metrics))) {}

GrpcApiServer::~GrpcApiServer() { stop(); }

std::optional<std::string> GrpcApiServer::start() {
  if (impl_->server) return "API server already started";
  auto [dir, name] = split_path(path_);
  if (auto err = api::prepare_socket_dir(dir, name)) return err;
  if (impl_->registry && !impl_->metrics) impl_->metrics = std::make_shared<api::ApiMetrics>(*impl_->registry);
  impl_->service = std::make_unique<api::ApiService>(impl_->queries, impl_->metrics);

  grpc::ServerBuilder builder;  // no listening ports: connections arrive through AddInsecureChannelFromFd
  builder.RegisterService(impl_->service.get());
  builder.SetMaxReceiveMessageSize(1 << 20);  // requests are tiny; replies may be large (send limit unchanged)
  impl_->server = builder.BuildAndStart();
  if (!impl_->server) return "cannot start the gRPC server";

  if (auto err = api::listen_unix(path_, impl_->listener)) {
    impl_->server->Shutdown();
    impl_->server.reset();
    return err;
  }
  impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wake_fd < 0) {
    std::string err = std::string("eventfd: ") + std::strerror(errno);
    stop();
    return err;
  }
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
  log::info("api", "gRPC API listening on unix:" + path_ + " (peers: root or uid " +
                       std::to_string(impl_->agent_uid) + ")");
  return std::nullopt;
}

void GrpcApiServer::stop() {
  if (!impl_) return;
  if (impl_->accept_thread.joinable()) {
    uint64_t one = 1;
    (void)!::write(impl_->wake_fd, &one, sizeof one);
    impl_->accept_thread.join();
  }
  if (impl_->wake_fd >= 0) {
    ::close(impl_->wake_fd);
    impl_->wake_fd = -1;
  }
  if (impl_->listener.fd >= 0) {
    ::close(impl_->listener.fd);
    api::unlink_if_ours(path_, impl_->listener);
    impl_->listener = {};
  }
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace slo::agent
