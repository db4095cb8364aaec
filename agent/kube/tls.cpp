#include "agent/kube/tls.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

namespace slo::kube {
namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::shared_ptr<TlsClientContext> TlsClientContext::create(const TlsOptions& o, std::string* error) {
  namespace ssl = boost::asio::ssl;
  std::shared_ptr<TlsClientContext> t(new TlsClientContext());
  boost::system::error_code ec;
  t->ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  t->verify_ = !o.insecure;
  if (o.insecure) {
    t->ctx_.set_verify_mode(ssl::verify_none);
  } else {
    t->ctx_.set_verify_mode(ssl::verify_peer);
    std::string ca = o.ca_pem;
    if (ca.empty() && !o.ca_file.empty() && !read_file(o.ca_file, &ca)) {
      *error = "CA file " + o.ca_file + ": cannot read";
      return nullptr;
    }
    if (!ca.empty()) {
      t->ctx_.add_certificate_authority(boost::asio::buffer(ca), ec);
      if (ec) {
        *error = "CA " + (o.ca_file.empty() ? std::string("data") : "file " + o.ca_file) + ": not a PEM certificate (" +
                 ec.message() + ")";
        return nullptr;
      }
    } else {
      t->ctx_.set_default_verify_paths(ec);
    }
  }
  std::string cert = o.client_cert_pem, key = o.client_key_pem;
  if (cert.empty() && !o.client_cert_file.empty() && !read_file(o.client_cert_file, &cert)) {
    *error = "client certificate " + o.client_cert_file + ": cannot read";
    return nullptr;
  }
  if (key.empty() && !o.client_key_file.empty() && !read_file(o.client_key_file, &key)) {
    *error = "client key " + o.client_key_file + ": cannot read";
    return nullptr;
  }
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty()) {
      *error = "client certificate and key must be given together";
      return nullptr;
    }
    t->ctx_.use_certificate_chain(boost::asio::buffer(cert), ec);
    if (!ec) t->ctx_.use_private_key(boost::asio::buffer(key), ssl::context::pem, ec);
    if (ec) {
      *error = "client certificate/key: " + ec.message();
      return nullptr;
    }
  }
  return t;
}

void TlsClientContext::prepare(void* ssl_ptr, const std::string& host) const {
  SSL* ssl = static_cast<SSL*>(ssl_ptr);
  if (!is_ip(host)) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!verify_) return;
  X509_VERIFY_PARAM* p = SSL_get0_param(ssl);
  if (is_ip(host))
    X509_VERIFY_PARAM_set1_ip_asc(p, host.c_str());
  else
    X509_VERIFY_PARAM_set1_host(p, host.c_str(), 0);
}

}  // namespace slo::kube
