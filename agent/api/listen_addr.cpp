#include "agent/api/listen_addr.h"

#include <charconv>

namespace slo::api {

std::optional<ListenAddr> parse_listen_addr(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<ListenAddr> {
    if (error) *error = "invalid listen address '" + text + "': " + why + " (expected HOST:PORT, e.g. 127.0.0.1:9464)";
    return std::nullopt;
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return fail("no port");
  std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return fail("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return fail("an IPv6 address needs brackets");
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return fail("port must be a number 0..65535");
  return ListenAddr{host, static_cast<uint16_t>(port)};
}

}  // namespace slo::api
