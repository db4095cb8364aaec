// A minimal HTTP/1.1 client over a plain socket for the metrics-server tests (no library between the test and the
// bytes the server writes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slo::test {

struct HttpResponse {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;
};

// Sends the requests one after another on one connection (all but the last with keep-alive) and reads each
// response by its Content-Length. Throws on connection errors.
std::vector<HttpResponse> http_exchange(uint16_t port, const std::vector<std::string>& paths,
                                        const std::string& method = "GET");
HttpResponse http_get(uint16_t port, const std::string& path, const std::string& method = "GET");

}  // namespace slo::test
