// Client TLS settings shared by the kubelet source and the API client: which CA to trust (file or inline PEM, the
// system store otherwise), an explicit insecure switch, and an optional client certificate (kubeconfig users).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace slo::kube {

struct TlsOptions {
  std::string ca_file;  // PEM bundle; ca_pem wins when both are set
  std::string ca_pem;
  bool insecure = false;  // no certificate or name check: only for explicit --…-insecure-tls / kubeconfig
  std::string client_cert_file, client_cert_pem;
  std::string client_key_file, client_key_pem;
};

class TlsClientContext {
 public:
  // nullptr and `error` set ("CA file /x: no such file") when the material cannot be loaded.
  static std::shared_ptr<TlsClientContext> create(const TlsOptions& o, std::string* error);
  boost::asio::ssl::context& ctx() { return ctx_; }
  bool verify() const { return verify_; }
  // Per connection: SNI and the name (or IP) the peer certificate must carry.
  void prepare(void* ssl /* SSL* */, const std::string& host) const;

 private:
  TlsClientContext() : ctx_(boost::asio::ssl::context::tls_client) {}
  boost::asio::ssl::context ctx_;
  bool verify_ = true;
};

}  // namespace slo::kube
