// A throw-away TLS identity for the fake servers: an EC P-256 key and a self-signed certificate (CA:TRUE, so the
// certificate is its own trust anchor) for 127.0.0.1 and localhost, generated in memory at test start.
#pragma once

#include <string>

namespace slo::fakes {

struct SelfSigned {
  std::string cert_pem;  // also the CA bundle a client must trust
  std::string key_pem;
};

// Throws std::runtime_error when OpenSSL fails (never expected on a sane system).
SelfSigned make_self_signed(const std::string& common_name = "127.0.0.1");

}  // namespace slo::fakes
