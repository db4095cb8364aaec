#include "agent/api/metrics_server.h"

#include <chrono>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/api/api_metrics.h"
#include "agent/api/listen_addr.h"
#include "agent/runtime/agent_queries.h"
#include "agent/runtime/log.h"
#include "agent/runtime/memory_policy.h"
#include "slo_config.h"

namespace slo::agent {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxRequestBody = 4096;  // probes and scrapes send none

// One connection: read a request, answer it, repeat while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Handler = std::function<http::response<http::string_body>(const http::request<http::string_body>&)>;
  Session(tcp::socket s, const Handler& h) : stream_(std::move(s)), handler_(h) {}

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {  // end of stream, timeout or a malformed request: just close
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    response_ = handler_(parser_->get());
    response_.keep_alive(parser_->get().keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code wec, size_t) {
      if (wec) return;
      if (!self->response_.keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const Handler& handler_;
};

}  // namespace

struct MetricsServer::Impl {
  std::string addr_text;
  std::shared_ptr<prometheus::Registry> registry;
  const AgentQueries& queries;
  api::ApiMetrics metrics;
  Session::Handler handler;  // sessions refer to it: declared before (destroyed after) the io_context
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  uint16_t port = 0;

  Impl(std::string a, std::shared_ptr<prometheus::Registry> r, const AgentQueries& q)
      : addr_text(std::move(a)), registry(std::move(r)), queries(q), metrics(*registry) {
    handler = [this](const http::request<http::string_body>& req) { return answer(req); };
  }

  http::response<http::string_body> answer(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "sloagent/" SLO_VERSION);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    std::string path_label = target == "/metrics" || target == "/healthz" || target == "/readyz" ? target : "other";
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.body() = "only GET is served\n";
    } else if (target == "/metrics") {
      std::ostringstream out;
      prometheus::TextSerializer().Serialize(out, registry->Collect());
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = std::move(out).str();
      // A scrape at 500 pods allocates and frees ~5 MB of small objects (label strings of every series): give the
      // pages back, or every scrape's peak stays resident (≈ 0.5 ms at 500 pods, once per scrape interval).
      release_free_memory();
    } else if (target == "/healthz") {
      res.body() = "ok\n";
    } else if (target == "/readyz") {
      if (queries.ready()) {
        res.body() = "ready\n";
      } else {
        res.result(http::status::service_unavailable);
        res.body() = "not ready: no complete observe/decide/act tick yet\n";
      }
    } else {
      res.result(http::status::not_found);
      res.body() = "not found; endpoints: /metrics /healthz /readyz\n";
    }
    metrics.count_http(path_label, static_cast<unsigned>(res.result_int()));
    return res;
  }

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), handler)->run();
      accept();
    });
  }
};

MetricsServer::MetricsServer(std::string addr, std::shared_ptr<prometheus::Registry> registry,
                             const AgentQueries& queries)
    : impl_(std::make_unique<Impl>(std::move(addr), std::move(registry), queries)) {
  api::register_build_info(*impl_->registry, SLO_VERSION);
}

MetricsServer::~MetricsServer() { stop(); }

std::optional<std::string> MetricsServer::start() {
  std::string err;
  auto la = api::parse_listen_addr(impl_->addr_text, &err);
  if (!la) return err;
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(la->host, std::to_string(la->port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return "cannot resolve metrics address " + impl_->addr_text + ": " + (ec ? ec.message() : "no address");
  tcp::endpoint ep = results.begin()->endpoint();
  auto fail = [&](const char* what) {
    std::string msg = std::string("cannot ") + what + " metrics address " + impl_->addr_text + ": " + ec.message();
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    return msg;
  };
  if (impl_->acceptor.open(ep.protocol(), ec)) return fail("open");
  if (impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec)) return fail("configure");
  if (impl_->acceptor.bind(ep, ec)) return fail("bind");
  if (impl_->acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen on");
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  std::string where = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  log::info("api", "metrics and probes on http://" + where + ":" + std::to_string(impl_->port) +
                       " (/metrics /healthz /readyz)" + (la->port == 0 ? " (port 0 asked: picked a free port)" : ""));
  return std::nullopt;
}

void MetricsServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->ioc.stop();
  });
  impl_->thread.join();
}

uint16_t MetricsServer::port() const { return impl_->port; }

}  // namespace slo::agent
