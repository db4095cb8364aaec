#include "tests/api/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace slo::test {

namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void read_more(int fd, std::string& buf) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) <= 0) throw std::runtime_error("HTTP read timed out");
  char tmp[8192];
  ssize_t n = ::read(fd, tmp, sizeof tmp);
  if (n <= 0) throw std::runtime_error("HTTP connection closed early");
  buf.append(tmp, static_cast<size_t>(n));
}

}  // namespace

std::vector<HttpResponse> http_exchange(uint16_t port, const std::vector<std::string>& paths,
                                        const std::string& method) {
  Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  std::vector<HttpResponse> out;
  std::string buf;
  for (size_t i = 0; i < paths.size(); ++i) {
    bool last = i + 1 == paths.size();
    std::string req = method + " " + paths[i] + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo-test\r\n" +
                      (last ? "Connection: close\r\n" : "") + "\r\n";
    if (::write(s.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size()))
      throw std::runtime_error("HTTP write failed");
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) read_more(s.fd, buf);
    HttpResponse r;
    r.headers = buf.substr(0, end);
    buf.erase(0, end + 4);
    if (r.headers.rfind("HTTP/1.1 ", 0) != 0) throw std::runtime_error("not an HTTP response: " + r.headers);
    r.status = std::stoi(r.headers.substr(9, 3));
    size_t cl_pos = r.headers.find("Content-Length: ");
    if (cl_pos == std::string::npos) throw std::runtime_error("no Content-Length in " + r.headers);
    size_t len = std::stoul(r.headers.substr(cl_pos + 16));
    while (buf.size() < len) read_more(s.fd, buf);
    r.body = buf.substr(0, len);
    buf.erase(0, len);
    out.push_back(std::move(r));
  }
  return out;
}

HttpResponse http_get(uint16_t port, const std::string& path, const std::string& method) {
  return http_exchange(port, {path}, method).front();
}

}  // namespace slo::test
