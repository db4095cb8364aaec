// `sloagent run` (the default command): the agent daemon.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <prometheus/registry.h>

#include "agent/api/grpc_api_server.h"
#include "agent/api/metrics_server.h"
#include "agent/commands/command.h"
#include "agent/kube/client.h"
#include "agent/kube/cluster_actions_kube.h"
#include "agent/kube/cluster_sync.h"
#include "agent/kube/kube_config.h"
#include "agent/observe/file_pod_source.h"
#include "agent/observe/pod_source_registry.h"
#include "agent/runtime/memory_policy.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/document.h"
#include "agent/runtime/log.h"

namespace slo::agent {
namespace {

const char* kUsage =
    "Usage: sloagent run [--node-name NAME] [--config FILE] [--pods-file FILE] [--policy-dir DIR]\n"
    "                    [--cgroup-root DIR] [--resctrl-root DIR] [--sysfs-root DIR] [--proc-root DIR]\n"
    "                    [--state-dir DIR] [--socket PATH] [--metrics-addr HOST:PORT]\n"
    "                    [--kubepods-parent CGROUP] [--tick-ms N] [--log-level LEVEL] [--restore-on-exit]\n"
    "                    [--kubeconfig FILE | --standalone]\n\n"
    "  --node-name NAME        this node (default: agent.nodeName, else $NODE_NAME, else the hostname)\n"
    "  --kubeconfig FILE       in a cluster, from outside it: API server and credentials from this kubeconfig\n"
    "  --standalone            no API server even when $KUBERNETES_SERVICE_HOST is set (in-cluster config is used\n"
    "                          by default when it is; neither set = standalone). In a cluster the agent watches\n"
    "                          Cgroups and ColocationPolicy objects and its Node's labels, publishes batch\n"
    "                          resources in the node status, reports Cgroups status, creates Events, evicts\n"
    "                          through the Eviction API\n"
    "  --config FILE           agent settings + policy, JSON or YAML; hot-reloaded (ConfigMap ..data swaps too)\n"
    "  --pods-file FILE        standalone: a kubelet PodList JSON file, re-read on change\n"
    "  --policy-dir DIR        standalone: ColocationPolicy objects (YAML/JSON), merged over the config's policy,\n"
    "                          and Cgroups CRs (per-pod overrides, applied by CgroupsCrController)\n"
    "  --cgroup-root DIR       cgroup mount (default /sys/fs/cgroup)\n"
    "  --resctrl-root DIR      resctrl mount (default /sys/fs/resctrl)\n"
    "  --sysfs-root DIR        sysfs (default /sys)\n"
    "  --proc-root DIR         procfs (default /proc)\n"
    "  --state-dir DIR         journal of changed knobs (default /var/lib/sloagent)\n"
    "  --socket PATH           gRPC API for sloctl (Unix socket; default /run/sloagent/sloagent.sock, empty = off)\n"
    "  --metrics-addr H:P      /metrics, /healthz, /readyz (default 127.0.0.1:9464; port 0 = any free port,\n"
    "                          logged; empty = off)\n"
    "  --kubepods-parent CG    cgroup below which kubepods lives (kubelet --cgroup-root; demo/test subtrees)\n"
    "  --tick-ms N             fast tick period (default 100)\n"
    "  --log-level LEVEL       debug, info, warn, error\n"
    "  --restore-on-exit       on SIGTERM/SIGINT put every changed knob back before exiting";

// The API server side of a cluster run. Shutdown order matters: informers stop first (no more sinks into the agent),
// then the io thread; the io_context itself (pending request coroutines refer to the client) is destroyed before
// the client, after the agent (whose controllers hold the KubeClusterActions) is gone.
struct KubeSession {
  std::unique_ptr<kube::Client> client;      // destroyed last
  std::unique_ptr<kube::KubeThread> thread;  // its io_context runs every request
  std::shared_ptr<kube::KubeClusterActions> actions;
  std::unique_ptr<kube::ClusterSync> sync;

  void stop() {
    if (sync) sync->stop();
    if (thread) thread->stop();
  }
  ~KubeSession() {
    stop();
    sync.reset();
    actions.reset();
    thread.reset();
  }
};

// --kubeconfig, or in-cluster when $KUBERNETES_SERVICE_HOST is set and --standalone is not: a session; otherwise
// nullptr (standalone, exactly as without a cluster). `error` set on a config that cannot be used.
std::unique_ptr<KubeSession> connect_cluster(const ArgParser& p, const std::string& node, std::string& error) {
  const bool has_kubeconfig = p.has("--kubeconfig");
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (!has_kubeconfig && (p.has("--standalone") || !host || !*host)) return nullptr;
  auto cfg = kube::load_client_config(has_kubeconfig ? p.get("--kubeconfig") : "");
  if (!cfg.config) {
    error = cfg.error;
    return nullptr;
  }
  auto s = std::make_unique<KubeSession>();
  s->thread = std::make_unique<kube::KubeThread>();
  std::string source = cfg.config->source;
  s->client = kube::Client::create(s->thread->io(), std::move(*cfg.config), kube::ClientOptions{}, &error);
  if (!s->client) return nullptr;
  s->actions = std::make_shared<kube::KubeClusterActions>(*s->client, node);
  log::info("run", "API server " + s->client->config().endpoint.host + ":" +
                       std::to_string(s->client->config().endpoint.port) + " (" + source + "), node " + node);
  return s;
}

std::string default_node_name() {
  if (const char* n = std::getenv("NODE_NAME"); n && *n) return n;
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0) return buf;
  return "localhost";
}

int run_agent(const std::vector<std::string>& args) {
  limit_malloc_arenas();  // before any thread starts (memory_policy.h)
  std::vector<std::string> values = {"--node-name",    "--config",      "--pods-file",  "--policy-dir",
                                     "--cgroup-root",  "--resctrl-root", "--sysfs-root", "--proc-root",
                                     "--state-dir",    "--socket",      "--metrics-addr", "--kubepods-parent",
                                     "--tick-ms",      "--log-level",   "--kubeconfig"};
  std::vector<std::string> flags = {"--restore-on-exit", "--standalone"};
  for (const auto& r : pod_source_registry()) {
    values.insert(values.end(), r.value_options.begin(), r.value_options.end());
    flags.insert(flags.end(), r.flag_options.begin(), r.flag_options.end());
  }
  ArgParser p(args);
  if (!p.parse(values, flags) || !p.positional().empty()) {
    std::fprintf(stderr, "sloagent run: %s\n%s\n",
                 p.error().empty() ? ("unexpected argument " + p.positional().front()).c_str() : p.error().c_str(),
                 kUsage);
    return kExitUsage;
  }
  if (p.has("--kubeconfig") && p.has("--standalone")) {
    std::fprintf(stderr, "sloagent run: --kubeconfig and --standalone exclude each other\n%s\n", kUsage);
    return kExitUsage;
  }
  AgentOptions o;
  o.config_path = p.get("--config");
  o.policy_dir = p.get("--policy-dir");
  o.cgroup_root = p.get("--cgroup-root", o.cgroup_root);
  o.resctrl_root = p.get("--resctrl-root", o.resctrl_root);
  o.sysfs_root = p.get("--sysfs-root", o.sysfs_root);
  o.proc_root = p.get("--proc-root", o.proc_root);
  o.state_dir = p.get("--state-dir", o.state_dir);
  if (p.has("--node-name")) o.overrides.node_name = p.get("--node-name");
  if (p.has("--kubepods-parent")) o.overrides.kubepods_parent = p.get("--kubepods-parent");
  if (p.has("--restore-on-exit")) o.overrides.restore_on_exit = true;
  if (p.has("--log-level")) {
    auto l = log::level_from_string(p.get("--log-level"));
    if (!l) {
      std::fprintf(stderr, "sloagent run: --log-level must be debug, info, warn or error\n");
      return kExitUsage;
    }
    o.overrides.log_level = *l;
    log::set_level(*l);
  }
  if (p.has("--tick-ms")) {
    int ms = std::atoi(p.get("--tick-ms").c_str());
    if (ms < 10 || ms > 60000) {
      std::fprintf(stderr, "sloagent run: --tick-ms must be between 10 and 60000\n");
      return kExitUsage;
    }
    o.overrides.tick = std::chrono::milliseconds(ms);
  }

  // The node name matters for the kubelet source and for node selectors; fill it before the config is read.
  std::string node_name;
  {
    std::string e;
    std::string cfg_name;
    if (!o.overrides.node_name && !o.config_path.empty()) {
      auto text = read_text_file(o.config_path, e);
      std::string perr;
      if (text)
        if (auto d = parse_document(*text, perr); d && d->is_object() && d->contains("agent") &&
                                                  (*d)["agent"].is_object() && (*d)["agent"].contains("nodeName") &&
                                                  (*d)["agent"]["nodeName"].is_string())
          cfg_name = (*d)["agent"]["nodeName"].get<std::string>();
    }
    if (!o.overrides.node_name && cfg_name.empty()) o.overrides.node_name = default_node_name();
    node_name = o.overrides.node_name.value_or(cfg_name);
  }

  std::string kube_error;
  auto cluster = connect_cluster(p, node_name, kube_error);
  if (!kube_error.empty()) {
    log::error("run", "API server: " + kube_error);
    return kExitError;
  }
  if (cluster) o.cluster = cluster->actions;

  if (p.has("--pods-file")) {
    o.pod_source = std::make_unique<FilePodSource>(p.get("--pods-file"), std::chrono::seconds(2));
  } else {
    for (const auto& r : pod_source_registry()) {
      PodSourceOptions so;
      so.node_name = o.overrides.node_name.value_or("");
      for (const auto& v : r.value_options)
        if (p.has(v)) so.values[v] = p.get(v);
      for (const auto& f : r.flag_options)
        if (p.has(f)) so.flags.push_back(f);
      std::string err;
      o.pod_source = r.make(so, err);
      if (!o.pod_source) {
        std::fprintf(stderr, "sloagent run: pod source %s: %s\n", r.name.c_str(), err.c_str());
        return kExitUsage;
      }
      break;
    }
  }

  // Both servers run by default; an empty value ("--socket=") turns one off. A default address that cannot be
  // bound is a warning (the agent's job is the node, not its API); an address the operator chose is an error.
  const bool socket_given = p.has("--socket"), metrics_given = p.has("--metrics-addr");
  const std::string socket = socket_given ? p.get("--socket") : GrpcApiServer::kDefaultSocket;
  const std::string metrics_addr = metrics_given ? p.get("--metrics-addr") : MetricsServer::kDefaultAddr;
  Agent agent(std::move(o));
  if (auto err = agent.init()) {
    log::error("run", *err);
    return kExitError;
  }
  std::unique_ptr<MetricsServer> metrics;
  std::unique_ptr<GrpcApiServer> grpc;
  if (!metrics_addr.empty()) {
    metrics = std::make_unique<MetricsServer>(metrics_addr, agent.registry(), *agent.queries());
    if (auto e = metrics->start()) {
      if (metrics_given) {
        log::error("run", "metrics server: " + *e);
        return kExitError;
      }
      log::warn("run", "metrics server on default " + metrics_addr + " not started: " + *e +
                           " (set --metrics-addr, or --metrics-addr= to turn it off)");
      metrics.reset();
    }
  }
  if (!socket.empty()) {
    grpc = std::make_unique<GrpcApiServer>(socket, *agent.queries(), agent.registry());
    if (auto e = grpc->start()) {
      if (socket_given) {
        log::error("run", "gRPC API: " + *e);
        return kExitError;
      }
      log::warn("run", "gRPC API on default " + socket + " not started: " + *e +
                           " (set --socket, or --socket= to turn it off)");
      grpc.reset();
    } else {
      log::info("run", "gRPC API on unix:" + socket);
    }
  }
  if (cluster) {
    kube::ClusterSyncOptions so;
    so.node = node_name;
    kube::ClusterSyncSinks sinks;
    sinks.objects = [&agent](kube::ClusterObjectKind k, std::vector<nlohmann::json> objs) {
      agent.set_cluster_objects(
          k == kube::ClusterObjectKind::cgroups ? Agent::ClusterKind::cgroups : Agent::ClusterKind::colocation_policy,
          std::move(objs));
    };
    sinks.node_labels = [&agent](std::map<std::string, std::string> labels) {
      agent.set_node_labels(std::move(labels));
    };
    cluster->sync = std::make_unique<kube::ClusterSync>(*cluster->client, so, std::move(sinks));
    cluster->sync->start();
  }
  int rc = agent.run();
  if (cluster) cluster->stop();  // no sink may post into the agent once its loop is gone
  if (grpc) grpc->stop();
  if (metrics) metrics->stop();
  log::info("run", "stopped");
  return rc;
}

CommandRegistrar reg{Command{"run", "run the agent (the default command)", kUsage, run_agent}};

}  // namespace
}  // namespace slo::agent
