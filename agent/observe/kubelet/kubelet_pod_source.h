// The in-cluster pod source: GET https://<host>:10250/pods from the kubelet with the service-account token
// (authorised as nodes/proxy, or nodes/pods with fine-grained kubelet authz). The token file is re-read when it
// changes (rotation). Each fetch is bounded by a connect and a read timeout; failures back off 0.8 s → 30 s
// (jittered) and say in one line what to fix.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/kube/backoff.h"
#include "agent/kube/tls.h"
#include "agent/kube/token_source.h"
#include "agent/observe/pod_source.h"

namespace slo::agent {

struct KubeletSourceOptions {
  std::string host = "127.0.0.1";  // --kubelet-host (default: $NODE_IP, else 127.0.0.1)
  uint16_t port = 10250;           // --kubelet-port
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";  // --kubelet-token-file
  // --kubelet-ca-file; empty: the service-account ca.crt when present, else the system store.
  std::string ca_file;
  bool insecure_tls = false;  // --kubelet-insecure-tls: no certificate check at all (kubelets with self-signed certs)
  std::chrono::milliseconds interval{10000};         // --kubelet-interval-ms
  std::chrono::milliseconds connect_timeout{3000};  // TCP + TLS handshake
  std::chrono::milliseconds read_timeout{10000};    // request + whole response
  kube::Backoff::Options backoff{};
};

class KubeletPodSource final : public PodSource {
 public:
  explicit KubeletPodSource(KubeletSourceOptions o);
  std::string_view name() const override { return "kubelet"; }
  PodFetch fetch() override;
  std::chrono::milliseconds next_delay(bool last_ok) override;
  const KubeletSourceOptions& options() const { return o_; }
  std::string url() const;
  uint64_t token_reloads() const { return token_.reloads(); }

 private:
  KubeletSourceOptions o_;
  kube::TokenSource token_;
  kube::Backoff backoff_;
  std::shared_ptr<kube::TlsClientContext> tls_;
};

}  // namespace slo::agent
