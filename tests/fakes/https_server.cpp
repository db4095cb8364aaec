#include "tests/fakes/https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace slo::fakes {

struct ConnState {
  int fd = -1;
  SSL* ssl = nullptr;
  std::atomic<bool> aborted{false};
  std::atomic<bool> done{false};
  const std::atomic<bool>* server_stopping = nullptr;
  std::mutex fd_mu;  // the fd is shut down from other threads: never after it was closed (and maybe reused)

  void shut() {
    std::lock_guard lk(fd_mu);
    if (!done) ::shutdown(fd, SHUT_RDWR);
  }
  void close_fd() {
    std::lock_guard lk(fd_mu);
    ::close(fd);
    done = true;
  }
};

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool dead(const ConnState& st) { return st.aborted.load() || st.server_stopping->load(); }

}  // namespace

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    size_t eq = kv.find('=');
    if (!kv.empty()) {
      if (eq == std::string_view::npos)
        out[url_decode(kv)] = "";
      else
        out[url_decode(kv.substr(0, eq))] = url_decode(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string_view status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool HttpConnection::alive() const { return !dead(*st_); }

bool HttpConnection::sleep_for(std::chrono::milliseconds d) const {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (dead(*st_)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !dead(*st_);
}

bool HttpConnection::write_all(std::string_view data) {
  while (!data.empty()) {
    if (dead(*st_)) return false;
    int n = SSL_write(st_->ssl, data.data(), static_cast<int>(data.size()));
    if (n <= 0) {
      int err = SSL_get_error(st_->ssl, n);
      if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) continue;
      st_->aborted = true;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpConnection::respond(int status, std::string_view content_type, std::string_view body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_text(status)) +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return write_all(head) && write_all(body);
}

bool HttpConnection::begin_chunked(int status, std::string_view content_type) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_text(status)) +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  return write_all(head);
}

bool HttpConnection::write_chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the stream
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return write_all(size) && write_all(data) && write_all("\r\n");
}

bool HttpConnection::end_chunked() { return write_all("0\r\n\r\n"); }

void HttpConnection::abort() {
  st_->aborted = true;
  st_->shut();
}

HttpsServer::HttpsServer(Handler handler, uint16_t port)
    : handler_(std::move(handler)), port_(port), identity_(make_self_signed()) {}

HttpsServer::~HttpsServer() { stop(); }

void HttpsServer::start() {
  // A client that hangs up mid-write must not kill the test process.
  ::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
  BIO* cb = BIO_new_mem_buf(identity_.cert_pem.data(), static_cast<int>(identity_.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(identity_.key_pem.data(), static_cast<int>(identity_.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  if (!cert || !key || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
    throw std::runtime_error("fake server: loading the generated certificate failed");
  X509_free(cert);
  EVP_PKEY_free(key);
  ssl_ctx_ = ctx;

  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error(std::string("fake server: bind/listen failed: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

void HttpsServer::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<Worker> workers;
  {
    std::lock_guard lk(mu_);
    for (auto& w : workers_) w.state->shut();
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
  ssl_ctx_ = nullptr;
}

void HttpsServer::drop_connections() {
  std::lock_guard lk(mu_);
  for (auto& w : workers_) {
    if (w.state->done) continue;
    w.state->aborted = true;
    w.state->shut();
  }
}

void HttpsServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    // A short receive timeout lets a blocked read notice an abort or a stop.
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto st = std::make_shared<ConnState>();
    st->fd = fd;
    st->server_stopping = &stopping_;
    std::lock_guard lk(mu_);
    // Reap finished connections so a long test does not pile up threads.
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->state->done) {
        it->thread.join();
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    workers_.push_back(Worker{std::thread([this, st] { serve(st); }), st});
  }
}

void HttpsServer::serve(std::shared_ptr<ConnState> st) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
  st->ssl = ssl;
  SSL_set_fd(ssl, st->fd);
  auto finish = [&] {
    SSL_free(ssl);
    st->close_fd();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int r = SSL_accept(ssl);
    if (r == 1) break;
    int err = SSL_get_error(ssl, r);
    bool retry = (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
                  (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)));
    if (!retry || dead(*st) || std::chrono::steady_clock::now() > deadline) {
      ERR_clear_error();
      finish();
      return;
    }
  }

  // Read the request head, then Content-Length bytes of body.
  std::string buf;
  char tmp[8192];
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  HttpRequest req;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (head_end != std::string::npos && buf.size() >= head_end + 4 + content_length) break;
    if (dead(*st) || std::chrono::steady_clock::now() > deadline) {
      finish();
      return;
    }
    int n = SSL_read(ssl, tmp, sizeof tmp);
    if (n <= 0) {
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        ERR_clear_error();
        continue;
      }
      ERR_clear_error();
      finish();
      return;
    }
    buf.append(tmp, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string_view head(buf.data(), head_end);
        size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        size_t sp1 = line.find(' ');
        size_t sp2 = line.find(' ', sp1 + 1);
        req.method = std::string(line.substr(0, sp1));
        req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
        std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
        while (!rest.empty()) {
          size_t e = rest.find("\r\n");
          std::string_view h = rest.substr(0, e);
          size_t colon = h.find(':');
          if (colon != std::string_view::npos) {
            std::string_view v = h.substr(colon + 1);
            while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            req.headers[lower(std::string(h.substr(0, colon)))] = std::string(v);
          }
          if (e == std::string_view::npos) break;
          rest.remove_prefix(e + 2);
        }
        auto cl = req.headers.find("content-length");
        if (cl != req.headers.end()) content_length = std::stoul(cl->second);
      }
    }
  }
  req.body = buf.substr(head_end + 4, content_length);
  size_t q = req.target.find('?');
  req.path = url_decode(std::string_view(req.target).substr(0, q));
  if (q != std::string::npos) req.params = parse_query(std::string_view(req.target).substr(q + 1));

  HttpConnection conn(st);
  handler_(req, conn);
  if (!st->aborted) SSL_shutdown(ssl);
  ERR_clear_error();
  finish();
}

}  // namespace slo::fakes
