#include "agent/observe/kubelet/kubelet_pod_source.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "agent/kube/https.h"
#include "agent/model/pod.h"
#include "agent/observe/pod_source_registry.h"

namespace slo::agent {

KubeletPodSource::KubeletPodSource(KubeletSourceOptions o)
    : o_(std::move(o)), token_(kube::TokenSource::file(o_.token_file)), backoff_(o_.backoff) {
  if (o_.ca_file.empty() && !o_.insecure_tls) {
    std::string sa_ca = std::filesystem::path(o_.token_file).parent_path() / "ca.crt";
    if (std::filesystem::exists(sa_ca)) o_.ca_file = sa_ca;
  }
}

std::string KubeletPodSource::url() const { return kube::Endpoint{o_.host, o_.port}.url() + "/pods"; }

std::chrono::milliseconds KubeletPodSource::next_delay(bool last_ok) {
  if (last_ok) {
    backoff_.reset();
    return o_.interval;
  }
  return backoff_.next();
}

PodFetch KubeletPodSource::fetch() {
  PodFetch out;
  const std::string where = "kubelet " + url();
  if (!tls_) {
    // Built lazily and retried: the CA file may be mounted after the agent started.
    kube::TlsOptions t;
    t.ca_file = o_.ca_file;
    t.insecure = o_.insecure_tls;
    std::string err;
    tls_ = kube::TlsClientContext::create(t, &err);
    if (!tls_) {
      out.error = where + ": " + err + " (fix --kubelet-ca-file or use --kubelet-insecure-tls)";
      return out;
    }
  }
  std::string token_error;
  kube::HttpRequest req;
  req.target = "/pods";
  req.bearer_token = token_.token(&token_error);
  kube::HttpResponse r = kube::https_blocking(tls_, kube::Endpoint{o_.host, o_.port}, std::move(req),
                                              kube::Timeouts{o_.connect_timeout, o_.read_timeout});
  if (!r.transport_ok()) {
    out.error = "kubelet " + r.error;
    if (r.failure == kube::Failure::tls)
      out.error += o_.ca_file.empty() ? " (the kubelet's serving certificate is not trusted: set --kubelet-ca-file, "
                                        "or --kubelet-insecure-tls)"
                                      : " (is --kubelet-ca-file " + o_.ca_file + " the CA of the kubelet's serving "
                                        "certificate? --kubelet-host must match a name or IP in it)";
    else if (r.failure == kube::Failure::connect)
      out.error += " (is the kubelet listening on " + o_.host + ":" + std::to_string(o_.port) + "?)";
    return out;
  }
  if (r.status == 401) {
    out.error = where + ": 401 Unauthorized: token rejected (" +
                (token_error.empty() ? "token file " + o_.token_file : token_error) +
                "; the kubelet needs webhook authentication and a valid service-account token)";
    return out;
  }
  if (r.status == 403) {
    out.error = where + ": 403 Forbidden: RBAC missing nodes/proxy (or nodes/pods) get for the agent's service "
                        "account";
    return out;
  }
  if (r.status != 200) {
    std::string body = r.body.substr(0, 200);
    for (auto& c : body)
      if (c == '\n' || c == '\r') c = ' ';
    out.error = where + ": HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    return out;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::parse_error& e) {
    // Say where it broke without dumping the document.
    out.error = where + ": bad JSON in /pods response (" + std::to_string(r.body.size()) + " bytes): " + e.what();
    return out;
  }
  if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
    out.error = where + ": /pods response is not a PodList (no items array)";
    return out;
  }
  out.pods = model::parse_pod_list(doc);
  out.ok = true;
  return out;
}

namespace {

bool parse_ms(const std::string& s, std::chrono::milliseconds* out) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0) return false;
  *out = std::chrono::milliseconds(v);
  return true;
}

const PodSourceRegistrar kRegisterKubelet{PodSourceRegistration{
    "kubelet",
    {"--kubelet-host", "--kubelet-port", "--kubelet-token-file", "--kubelet-ca-file", "--kubelet-interval-ms",
     "--kubelet-timeout-ms"},
    {"--kubelet-insecure-tls"},
    "  --kubelet-host HOST      kubelet address (default: $NODE_IP, else 127.0.0.1)\n"
    "  --kubelet-port PORT      kubelet HTTPS port (default 10250)\n"
    "  --kubelet-token-file F   bearer token, re-read on rotation (default: the service-account token)\n"
    "  --kubelet-ca-file F      CA of the kubelet's serving certificate (default: service-account ca.crt)\n"
    "  --kubelet-insecure-tls   do not verify the kubelet's certificate\n"
    "  --kubelet-interval-ms N  poll interval (default 10000)\n"
    "  --kubelet-timeout-ms N   read timeout per request (default 10000)\n",
    [](const PodSourceOptions& so, std::string& error) -> std::unique_ptr<PodSource> {
      KubeletSourceOptions o;
      const char* node_ip = std::getenv("NODE_IP");
      o.host = so.get("--kubelet-host", node_ip && *node_ip ? node_ip : "127.0.0.1");
      if (so.values.count("--kubelet-port")) {
        const std::string port = so.get("--kubelet-port");  // get() returns a copy: `end` must point into a live one
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (*end != '\0' || p <= 0 || p > 65535) {
          error = "--kubelet-port must be 1..65535";
          return nullptr;
        }
        o.port = static_cast<uint16_t>(p);
      }
      o.token_file = so.get("--kubelet-token-file", o.token_file);
      o.ca_file = so.get("--kubelet-ca-file");
      o.insecure_tls = so.has_flag("--kubelet-insecure-tls");
      if (o.insecure_tls && !o.ca_file.empty()) {
        error = "--kubelet-ca-file and --kubelet-insecure-tls exclude each other";
        return nullptr;
      }
      if (so.values.count("--kubelet-interval-ms") && !parse_ms(so.get("--kubelet-interval-ms"), &o.interval)) {
        error = "--kubelet-interval-ms must be a positive integer";
        return nullptr;
      }
      if (so.values.count("--kubelet-timeout-ms") && !parse_ms(so.get("--kubelet-timeout-ms"), &o.read_timeout)) {
        error = "--kubelet-timeout-ms must be a positive integer";
        return nullptr;
      }
      return std::make_unique<KubeletPodSource>(std::move(o));
    }}};

}  // namespace
}  // namespace slo::agent
