// A small threaded HTTPS/1.1 server for the fakes (fake kubelet, fake API server). Plain POSIX sockets + OpenSSL so
// that a test controls every byte: it can stall, send half a chunked stream, or cut the connection. One thread per
// connection, one request per connection ("Connection: close"); that is all the clients under test need.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "tests/fakes/self_signed.h"

namespace slo::fakes {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path?query
  std::string path;    // percent-decoded
  std::map<std::string, std::string> params;   // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const;
  std::string param(const std::string& name) const;
  bool has_param(const std::string& name) const { return params.count(name) != 0; }
};

// Percent-decoding and query splitting, exposed for the fakes' own use.
std::string url_decode(std::string_view s);
std::map<std::string, std::string> parse_query(std::string_view q);

struct ConnState;

// The handler's side of one connection. Every write returns false once the peer is gone, the connection was
// aborted (drop_connections) or the server is stopping: a handler then simply returns.
class HttpConnection {
 public:
  explicit HttpConnection(std::shared_ptr<ConnState> st) : st_(std::move(st)) {}
  bool respond(int status, std::string_view content_type, std::string_view body);
  bool begin_chunked(int status, std::string_view content_type);
  bool write_chunk(std::string_view data);
  bool end_chunked();
  // Cuts the TCP connection without finishing the response (what a crashed server or a dropped link looks like).
  void abort();
  bool alive() const;
  // Sleeps up to d; returns false early when the connection died or the server is stopping.
  bool sleep_for(std::chrono::milliseconds d) const;

 private:
  bool write_all(std::string_view data);
  std::shared_ptr<ConnState> st_;
};

class HttpsServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpConnection&)>;

  // port 0: any free port on 127.0.0.1 (read it back with port()).
  explicit HttpsServer(Handler handler, uint16_t port = 0);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  void start();
  void stop();
  uint16_t port() const { return port_; }
  const std::string& ca_pem() const { return identity_.cert_pem; }
  // Aborts every open connection (in-flight responses and open watch streams alike).
  void drop_connections();
  uint64_t connections_accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  void serve(std::shared_ptr<ConnState> st);

  Handler handler_;
  uint16_t port_;
  SelfSigned identity_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*, kept opaque here so the header does not pull OpenSSL in
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<ConnState> state;
  };
  std::list<Worker> workers_;
};

std::string_view status_text(int status);

}  // namespace slo::fakes
