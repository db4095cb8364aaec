// `sloagent inspect topology`: the node's CPU topology (and, given a pods file, the cpuset pools) as JSON.
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/commands/command.h"
#include "agent/decide/cpuset/pools_view.h"
#include "agent/model/pod.h"
#include "agent/model/topology.h"

namespace slo::agent {
namespace {

constexpr const char* kUsage =
    "Usage: sloagent inspect topology [--sysfs-root DIR] [--pods-file FILE] [--cpuset-config FILE]\n"
    "                                 [--cpu-manager-state FILE] [--state-dir DIR]\n\n"
    "Prints the CPU topology read from sysfs (packages, dies, NUMA nodes, L3 domains, cores, SMT siblings,\n"
    "online/offline CPUs, memory per node) as JSON. With --pods-file (a kubelet PodList) it adds the cpuset\n"
    "pools the cpuset controller would hold for those pods: reserved, LSE, LSR, share and BE pools and each\n"
    "pinned pod's CPUs; --state-dir reads the running agent's pin checkpoint so kept pins show as they are.\n\n"
    "  --sysfs-root DIR        sysfs mount (default /sys); a directory holding sys/ is accepted too\n"
    "  --pods-file FILE        kubelet PodList JSON (enables the pools view)\n"
    "  --cpuset-config FILE    JSON policy file holding {\"cpusetStrategy\": {...}}\n"
    "  --cpu-manager-state FILE  kubelet cpu_manager_state (default: not read)\n"
    "  --state-dir DIR         the agent's state directory (pins checkpoint cpuset-pins.json)";

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(const std::vector<std::string>& args) {
  ArgParser ap(args);
  if (!ap.parse({"--sysfs-root", "--pods-file", "--cpuset-config", "--cpu-manager-state", "--state-dir"}, {})) {
    std::fprintf(stderr, "sloagent inspect topology: %s\n", ap.error().c_str());
    return kExitUsage;
  }
  if (!ap.positional().empty()) {
    std::fprintf(stderr, "sloagent inspect topology: unexpected argument '%s'\n", ap.positional()[0].c_str());
    return kExitUsage;
  }
  const std::string sysfs = ap.get("--sysfs-root", "/sys");
  auto topo = model::Topology::read(sysfs);
  if (!topo.ok()) {
    std::fprintf(stderr, "sloagent inspect topology: cannot read topology under %s: %s\n", sysfs.c_str(),
                 topo.status.describe().c_str());
    return kExitError;
  }
  nlohmann::json out;
  out["sysfsRoot"] = sysfs;
  out["topology"] = topo.value;
  if (ap.has("--pods-file")) {
    cpuset::PoolsViewInput in;
    in.topology = &topo.value;
    auto text = slurp(ap.get("--pods-file"));
    if (!text) {
      std::fprintf(stderr, "sloagent inspect topology: cannot read pods file %s\n", ap.get("--pods-file").c_str());
      return kExitError;
    }
    in.pods = model::parse_pod_list(*text);
    if (ap.has("--cpuset-config")) {
      auto cfg = slurp(ap.get("--cpuset-config"));
      if (!cfg) {
        std::fprintf(stderr, "sloagent inspect topology: cannot read %s\n", ap.get("--cpuset-config").c_str());
        return kExitError;
      }
      auto j = nlohmann::json::parse(*cfg, nullptr, false);
      if (j.is_discarded()) {
        std::fprintf(stderr, "sloagent inspect topology: %s: malformed JSON\n", ap.get("--cpuset-config").c_str());
        return kExitError;
      }
      in.config = j;
    }
    in.state_dir = ap.get("--state-dir");
    in.cpu_manager_state = ap.get("--cpu-manager-state");
    auto pools = cpuset::pools_view(in);
    if (pools.error) {
      std::fprintf(stderr, "sloagent inspect topology: %s\n", pools.error->c_str());
      return kExitError;
    }
    out["pools"] = pools.json["pools"];
    out["pods"] = pools.json["pods"];
    out["podErrors"] = pools.json["podErrors"];
    if (pools.json.contains("warnings")) out["warnings"] = pools.json["warnings"];
  }
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

const CommandRegistrar registrar{Command{"inspect topology", "CPU topology (and cpuset pools) as JSON", kUsage, run}};

}  // namespace
}  // namespace slo::agent
