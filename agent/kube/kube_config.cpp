#include "agent/kube/kube_config.h"

#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/yaml.h>

namespace slo::kube {

std::optional<std::string> base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

bool parse_server_url(const std::string& url, Endpoint* ep, std::string* error) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) {
    *error = "server '" + url + "': only https:// is supported";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    *error = "server '" + url + "': a path prefix is not supported";
    return false;
  }
  std::string host, port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      *error = "server '" + url + "': unterminated IPv6 address";
      return false;
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "server '" + url + "': no host";
    return false;
  }
  ep->host = host;
  ep->port = 443;
  if (!port.empty()) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) {
      *error = "server '" + url + "': bad port";
      return false;
    }
    ep->port = static_cast<uint16_t>(p);
  }
  return true;
}

ConfigResult in_cluster_config(const std::string& host, const std::string& port, const std::string& sa_dir) {
  ConfigResult r;
  if (host.empty() || port.empty()) {
    r.error = "not in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset (use --kubeconfig FILE)";
    return r;
  }
  std::string token = sa_dir + "/token", ca = sa_dir + "/ca.crt";
  if (!std::filesystem::exists(token)) {
    r.error = "in-cluster: service-account token " + token + " missing (automountServiceAccountToken off?)";
    return r;
  }
  ClientConfig c;
  bool v6 = host.find(':') != std::string::npos;
  std::string err;
  if (!parse_server_url("https://" + (v6 ? "[" + host + "]" : host) + ":" + port, &c.endpoint, &err)) {
    r.error = "in-cluster: " + err;
    return r;
  }
  c.tls.ca_file = ca;
  c.token = TokenSource::file(token);
  c.source = "in-cluster";
  r.config = std::move(c);
  return r;
}

ConfigResult in_cluster_config(const std::string& sa_dir) {
  const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
  return in_cluster_config(h ? h : "", p ? p : "", sa_dir);
}

namespace {

YAML::Node find_named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list)
    if (item["name"] && item["name"].as<std::string>() == name) return item[inner];
  return YAML::Node();
}

std::string str(const YAML::Node& n, const char* key) {
  return n && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : std::string();
}

}  // namespace

ConfigResult load_kubeconfig(const std::string& path, const std::string& context) {
  ConfigResult r;
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    r.error = "kubeconfig " + path + ": " + e.what();
    return r;
  }
  try {
    std::string ctx_name = context.empty() ? str(doc, "current-context") : context;
    if (ctx_name.empty()) {
      r.error = "kubeconfig " + path + ": no current-context";
      return r;
    }
    YAML::Node ctx = find_named(doc["contexts"], ctx_name, "context");
    if (!ctx.IsMap()) {
      r.error = "kubeconfig " + path + ": context '" + ctx_name + "' not found";
      return r;
    }
    std::string cluster_name = str(ctx, "cluster"), user_name = str(ctx, "user");
    YAML::Node cluster = find_named(doc["clusters"], cluster_name, "cluster");
    if (!cluster.IsMap()) {
      r.error = "kubeconfig " + path + ": cluster '" + cluster_name + "' not found";
      return r;
    }
    YAML::Node user = find_named(doc["users"], user_name, "user");
    auto base = std::filesystem::path(path).parent_path();
    auto rel = [&](const std::string& p) {
      if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
      return (base / p).string();
    };
    ClientConfig c;
    std::string err;
    if (!parse_server_url(str(cluster, "server"), &c.endpoint, &err)) {
      r.error = "kubeconfig " + path + ": cluster '" + cluster_name + "': " + err;
      return r;
    }
    auto decode = [&](const std::string& field, const std::string& v, std::string* out) {
      if (v.empty()) return true;
      auto d = base64_decode(v);
      if (!d) {
        r.error = "kubeconfig " + path + ": " + field + " is not base64";
        return false;
      }
      *out = *d;
      return true;
    };
    if (!decode("certificate-authority-data", str(cluster, "certificate-authority-data"), &c.tls.ca_pem))
      return r;
    c.tls.ca_file = rel(str(cluster, "certificate-authority"));
    c.tls.insecure = str(cluster, "insecure-skip-tls-verify") == "true";
    if (user.IsMap()) {
      if (user["exec"] || user["auth-provider"]) {
        r.error = "kubeconfig " + path + ": user '" + user_name +
                  "' uses exec/auth-provider credentials, which sloagent does not run; use a token or client "
                  "certificate";
        return r;
      }
      if (!decode("client-certificate-data", str(user, "client-certificate-data"), &c.tls.client_cert_pem) ||
          !decode("client-key-data", str(user, "client-key-data"), &c.tls.client_key_pem))
        return r;
      c.tls.client_cert_file = rel(str(user, "client-certificate"));
      c.tls.client_key_file = rel(str(user, "client-key"));
      if (!str(user, "token").empty())
        c.token = TokenSource::fixed(str(user, "token"));
      else if (!str(user, "tokenFile").empty())
        c.token = TokenSource::file(rel(str(user, "tokenFile")));
    }
    c.source = "kubeconfig " + path + " (context " + ctx_name + ")";
    r.config = std::move(c);
  } catch (const std::exception& e) {
    r.error = "kubeconfig " + path + ": " + e.what();
  }
  return r;
}

ConfigResult load_client_config(const std::string& kubeconfig_path) {
  if (!kubeconfig_path.empty()) return load_kubeconfig(kubeconfig_path);
  return in_cluster_config();
}

}  // namespace slo::kube
