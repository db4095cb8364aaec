// One HTTPS request (or one streamed response) with Boost.Beast over OpenSSL, as C++20 coroutines on an Asio
// io_context, with a connect timeout and a request (or per-read idle) timeout. Failures are classified so callers
// can print one line that says what to do: TLS (certificate/CA), timeout, connection refused, bad status.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>

#include "agent/kube/tls.h"

namespace slo::kube {

struct Endpoint {
  std::string host;
  uint16_t port = 443;
  std::string url() const;  // "https://host:port"
};

struct Timeouts {
  std::chrono::milliseconds connect{5000};  // TCP connect + TLS handshake
  std::chrono::milliseconds request{30000};  // write + whole response; for streams: the longest silence allowed
};

enum class Failure { none, resolve, connect, tls, timeout, io };
std::string_view to_string(Failure f);

struct HttpRequest {
  boost::beast::http::verb verb = boost::beast::http::verb::get;
  std::string target;  // path?query
  std::string body;
  std::string content_type;
  std::string bearer_token;
  std::string user_agent = "sloagent";
};

struct HttpResponse {
  Failure failure = Failure::none;
  std::string error;  // transport failure, one line
  int status = 0;
  std::string body;
  bool transport_ok() const { return failure == Failure::none; }
  bool ok() const { return transport_ok() && status >= 200 && status < 300; }
};

// A cancel hook for an in-flight operation: set while the operation runs, called on the io thread (stop()).
struct CancelSlot {
  std::function<void()> cancel;
};

boost::asio::awaitable<HttpResponse> async_https(std::shared_ptr<TlsClientContext> tls, Endpoint ep,
                                                 HttpRequest req, Timeouts t,
                                                 std::shared_ptr<CancelSlot> slot = nullptr);

// Runs one request on a private io_context on the calling thread (for blocking callers such as PodSource::fetch).
HttpResponse https_blocking(std::shared_ptr<TlsClientContext> tls, const Endpoint& ep, HttpRequest req, Timeouts t);

struct StreamResult {
  HttpResponse head;          // transport failure, or a non-200 status with its body
  bool clean_end = false;     // the server ended the stream (chunked terminator): a watch timeout
  bool stopped = false;       // on_line returned false
  uint64_t lines = 0;
};

// GET a streamed (chunked) response and hand each complete '\n'-terminated line to on_line as it arrives.
// on_line returning false ends the stream early. t.request bounds each silence, not the whole stream.
boost::asio::awaitable<StreamResult> async_https_lines(std::shared_ptr<TlsClientContext> tls, Endpoint ep,
                                                       HttpRequest req, Timeouts t,
                                                       std::function<bool(std::string_view)> on_line,
                                                       std::shared_ptr<CancelSlot> slot = nullptr);

}  // namespace slo::kube
