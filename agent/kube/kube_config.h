// Where the API server is and how to authenticate: in-cluster (service account) or a kubeconfig file.
#pragma once

#include <optional>
#include <string>

#include "agent/kube/https.h"
#include "agent/kube/tls.h"
#include "agent/kube/token_source.h"

namespace slo::kube {

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct ClientConfig {
  Endpoint endpoint;
  TlsOptions tls;
  TokenSource token;   // empty with client-certificate auth
  std::string source;  // for logs: "in-cluster" or "kubeconfig /path (context x)"
};

struct ConfigResult {
  std::optional<ClientConfig> config;
  std::string error;  // one line naming the missing piece
};

// KUBERNETES_SERVICE_HOST/PORT from the environment, token and ca.crt from sa_dir (the token file is re-read when
// kubelet rotates it).
ConfigResult in_cluster_config(const std::string& sa_dir = kServiceAccountDir);
ConfigResult in_cluster_config(const std::string& host, const std::string& port, const std::string& sa_dir);

// A kubeconfig: current-context (or `context`), its cluster (server, certificate-authority[-data],
// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data], client-key[-data]). Relative
// file paths are relative to the kubeconfig's directory, as kubectl does. exec/auth-provider users are rejected
// with a clear error.
ConfigResult load_kubeconfig(const std::string& path, const std::string& context = "");

// --kubeconfig given → that file; otherwise in-cluster.
ConfigResult load_client_config(const std::string& kubeconfig_path);

// "https://host:port" (IPv6 in brackets; port 443 when absent). A path prefix is rejected (not supported).
bool parse_server_url(const std::string& url, Endpoint* ep, std::string* error);
std::optional<std::string> base64_decode(const std::string& in);

}  // namespace slo::kube
