// "HOST:PORT" as given to --metrics-addr: "127.0.0.1:9464", "[::1]:9464", "localhost:0", ":9464" (all IPv4
// interfaces). Port 0 asks the kernel for a free port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace slo::api {

struct ListenAddr {
  std::string host;  // without brackets; "0.0.0.0" for ":PORT"
  uint16_t port = 0;
};

// nullopt with `error` set when the text is not HOST:PORT with a port 0..65535.
std::optional<ListenAddr> parse_listen_addr(const std::string& text, std::string* error = nullptr);

}  // namespace slo::api
