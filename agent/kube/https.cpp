#include "agent/kube/https.h"

#include <openssl/ssl.h>
#include <limits>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace slo::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

std::string Endpoint::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string_view to_string(Failure f) {
  switch (f) {
    case Failure::none: return "none";
    case Failure::resolve: return "resolve";
    case Failure::connect: return "connect";
    case Failure::tls: return "tls";
    case Failure::timeout: return "timeout";
    case Failure::io: return "io";
  }
  return "?";
}

namespace {

std::string secs(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

struct Connected {
  std::shared_ptr<Stream> stream;
  HttpResponse failure;
};

// Sets `r` from an error; the phase names what was going on ("connect", "TLS handshake", "reading response").
void fail(HttpResponse& r, const boost::system::error_code& ec, Failure kind, const std::string& phase,
          const Endpoint& ep, std::chrono::milliseconds limit, bool cancelled) {
  if (cancelled) {
    r.failure = Failure::io;
    r.error = ep.url() + ": cancelled";
    return;
  }
  if (ec == beast::error::timeout) {
    r.failure = Failure::timeout;
    r.error = ep.url() + ": timed out after " + secs(limit) + " (" + phase + ")";
    return;
  }
  r.failure = kind;
  r.error = ep.url() + ": " + phase + " failed: " + ec.message();
}

asio::awaitable<Connected> open(std::shared_ptr<TlsClientContext> tls, const Endpoint& ep, Timeouts t,
                                std::shared_ptr<CancelSlot> slot, std::shared_ptr<bool> cancelled) {
  Connected c;
  auto ex = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  tcp::resolver resolver(ex);
  auto results = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(c.failure, ec, Failure::resolve, "resolving " + ep.host, ep, t.connect, *cancelled);
    co_return c;
  }
  auto s = std::make_shared<Stream>(ex, tls->ctx());
  if (slot) {
    std::weak_ptr<Stream> weak = s;
    slot->cancel = [weak, cancelled] {
      *cancelled = true;
      if (auto p = weak.lock()) beast::get_lowest_layer(*p).close();
    };
  }
  tls->prepare(s->native_handle(), ep.host);
  beast::get_lowest_layer(*s).expires_after(t.connect);
  co_await beast::get_lowest_layer(*s).async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(c.failure, ec, Failure::connect, "connect", ep, t.connect, *cancelled);
    co_return c;
  }
  co_await s->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(c.failure, ec, Failure::tls, "TLS handshake", ep, t.connect, *cancelled);
    if (c.failure.failure == Failure::tls) {
      long v = SSL_get_verify_result(s->native_handle());
      if (v != X509_V_OK)
        c.failure.error = ep.url() + ": TLS handshake failed: certificate verify failed: " +
                          X509_verify_cert_error_string(v);
    }
    co_return c;
  }
  c.stream = std::move(s);
  co_return c;
}

http::request<http::string_body> make_request(const Endpoint& ep, const HttpRequest& req) {
  http::request<http::string_body> r{req.verb, req.target, 11};
  r.set(http::field::host, ep.host);
  r.set(http::field::user_agent, req.user_agent);
  r.set(http::field::accept, "application/json");
  r.keep_alive(false);
  if (!req.bearer_token.empty()) r.set(http::field::authorization, "Bearer " + req.bearer_token);
  if (!req.body.empty() || req.verb == http::verb::post || req.verb == http::verb::patch ||
      req.verb == http::verb::put) {
    if (!req.content_type.empty()) r.set(http::field::content_type, req.content_type);
    r.body() = req.body;
    r.prepare_payload();
  }
  return r;
}

}  // namespace

asio::awaitable<HttpResponse> async_https(std::shared_ptr<TlsClientContext> tls, Endpoint ep, HttpRequest req,
                                          Timeouts t, std::shared_ptr<CancelSlot> slot) {
  auto cancelled = std::make_shared<bool>(false);
  Connected c = co_await open(tls, ep, t, slot, cancelled);
  if (!c.stream) co_return c.failure;
  Stream& s = *c.stream;
  HttpResponse out;
  boost::system::error_code ec;
  beast::get_lowest_layer(s).expires_after(t.request);
  auto r = make_request(ep, req);
  co_await http::async_write(s, r, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(out, ec, Failure::io, "sending request", ep, t.request, *cancelled);
    co_return out;
  }
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{256} << 20);
  co_await http::async_read(s, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(out, ec, Failure::io, "reading response", ep, t.request, *cancelled);
    co_return out;
  }
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  beast::get_lowest_layer(s).close();
  if (slot) slot->cancel = nullptr;
  co_return out;
}

HttpResponse https_blocking(std::shared_ptr<TlsClientContext> tls, const Endpoint& ep, HttpRequest req, Timeouts t) {
  asio::io_context io;
  HttpResponse out;
  asio::co_spawn(io, async_https(std::move(tls), ep, std::move(req), t),
                 [&out](std::exception_ptr e, HttpResponse r) {
                   if (e) {
                     out.failure = Failure::io;
                     out.error = "internal error in HTTPS request";
                     return;
                   }
                   out = std::move(r);
                 });
  io.run();
  return out;
}

asio::awaitable<StreamResult> async_https_lines(std::shared_ptr<TlsClientContext> tls, Endpoint ep, HttpRequest req,
                                                Timeouts t, std::function<bool(std::string_view)> on_line,
                                                std::shared_ptr<CancelSlot> slot) {
  StreamResult out;
  auto cancelled = std::make_shared<bool>(false);
  Connected c = co_await open(tls, ep, t, slot, cancelled);
  if (!c.stream) {
    out.head = c.failure;
    co_return out;
  }
  Stream& s = *c.stream;
  boost::system::error_code ec;
  beast::get_lowest_layer(s).expires_after(t.request);
  auto r = make_request(ep, req);
  co_await http::async_write(s, r, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(out.head, ec, Failure::io, "sending request", ep, t.request, *cancelled);
    co_return out;
  }
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  // An endless stream (consumed lines are erased as they come). Not boost::none: Boost 1.74 compares a
  // Content-Length against an empty optional and reports "body limit exceeded".
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(s, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fail(out.head, ec, Failure::io, "reading response header", ep, t.request, *cancelled);
    co_return out;
  }
  out.head.status = static_cast<int>(parser.get().result_int());
  if (out.head.status != 200) {
    beast::get_lowest_layer(s).expires_after(t.request);
    parser.body_limit(std::uint64_t{1} << 20);
    co_await http::async_read(s, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    out.head.body = std::move(parser.get().body());
    co_return out;
  }
  size_t scanned = 0;
  while (!parser.is_done()) {
    beast::get_lowest_layer(s).expires_after(t.request);
    co_await http::async_read_some(s, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    std::string& body = parser.get().body();
    size_t start = 0;
    for (size_t nl; (nl = body.find('\n', scanned)) != std::string::npos; scanned = nl + 1) {
      std::string_view line(body.data() + start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      ++out.lines;
      if (!on_line(line)) {
        out.stopped = true;
        if (slot) slot->cancel = nullptr;
        co_return out;
      }
    }
    body.erase(0, start);
    scanned = body.size();
    if (ec) {
      // EOF before the terminating chunk (partial_message / end_of_stream) is a dropped connection.
      fail(out.head, ec, Failure::io, "reading stream", ep, t.request, *cancelled);
      co_return out;
    }
  }
  out.clean_end = true;
  if (slot) slot->cancel = nullptr;
  co_return out;
}

}  // namespace slo::kube
