// `sloagent inspect cgroups`: where kubelet put each pod's and container's cgroups and what their knobs hold now.
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/commands/command.h"
#include "agent/model/pod.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/kubelet_layout.h"

namespace slo::agent {
namespace {

constexpr const char* kUsage =
    "Usage: sloagent inspect cgroups [--cgroup-root DIR] [--kubepods-parent DIR] --pods-file FILE\n\n"
    "Prints, as JSON, the hierarchy mode (v1/hybrid/v2), the kubelet cgroup driver and, for every pod of the\n"
    "PodList in FILE and each of its containers, the resolved cgroup directories (per controller on v1) and the\n"
    "current knob values: CFS quota/period/burst, shares (and weight), cpuset cpus/mems, memory limit and the\n"
    "throttling counters of cpu.stat. A cgroup that does not exist is reported with \"found\": false.\n\n"
    "  --cgroup-root DIR      cgroup hierarchy root (default /sys/fs/cgroup)\n"
    "  --kubepods-parent DIR  cgroup below which kubepods lives (kubelet --cgroup-root; default: the root)\n"
    "  --pods-file FILE       kubelet PodList JSON (as served by GET /pods)";

constexpr cg::Knob kKnobs[] = {cg::Knob::cpu_quota,   cg::Knob::cpu_period,  cg::Knob::cpu_burst,
                               cg::Knob::cpu_shares,  cg::Knob::cpuset_cpus, cg::Knob::cpuset_mems,
                               cg::Knob::memory_limit};

nlohmann::json value_json(const cg::KnobValue& v) {
  if (const auto* s = std::get_if<cg::CpuSet>(&v)) return s->to_string();
  return std::get<int64_t>(v);
}

// Directories holding the cgroup, per controller (v1/hybrid) or the unified one (v2); empty when nowhere.
nlohmann::json dirs_of(const cg::CgroupFs& fs, const std::string& cgroup) {
  nlohmann::json dirs = nlohmann::json::object();
  const auto& h = fs.hierarchy();
  if (h.mode == cg::Mode::v2) {
    if (fs.exists(cgroup, cg::Controller::cpu) || fs.exists(cgroup, cg::Controller::memory))
      dirs["unified"] = h.unified_dir + "/" + cgroup;
    return dirs;
  }
  for (const auto& [ctrl, dir] : h.v1_dirs)
    if (fs.exists(cgroup, ctrl)) dirs[std::string(cg::to_string(ctrl))] = dir + "/" + cgroup;
  return dirs;
}

nlohmann::json describe_cgroup(const cg::CgroupFs& fs, const std::string& cgroup) {
  nlohmann::json j;
  j["cgroup"] = cgroup;
  j["dirs"] = dirs_of(fs, cgroup);
  j["found"] = !j["dirs"].empty();
  if (!j["found"]) return j;
  nlohmann::json knobs = nlohmann::json::object();
  for (cg::Knob k : kKnobs) {
    auto r = fs.read(cg::KnobRef{cgroup, k, ""});
    knobs[std::string(cg::to_string(k))] = r.ok() ? value_json(r.value) : nlohmann::json();
    if (k == cg::Knob::cpu_shares && r.ok() && fs.mode() == cg::Mode::v2)
      knobs["cpu_weight"] = cg::shares_to_weight(cg::as_int(r.value));
  }
  j["knobs"] = knobs;
  auto st = fs.cpu_stat(cgroup);
  if (st.ok())
    j["cpuStat"] = {{"nrPeriods", st.value.nr_periods},
                    {"nrThrottled", st.value.nr_throttled},
                    {"throttledSeconds", static_cast<double>(st.value.throttled_ns) / 1e9},
                    {"nrBursts", st.value.nr_bursts},
                    {"burstSeconds", static_cast<double>(st.value.burst_ns) / 1e9}};
  else
    j["cpuStat"] = nullptr;
  return j;
}

int run(const std::vector<std::string>& args) {
  ArgParser ap(args);
  if (!ap.parse({"--cgroup-root", "--pods-file", "--kubepods-parent"}, {})) {
    std::fprintf(stderr, "sloagent inspect cgroups: %s\n", ap.error().c_str());
    return kExitUsage;
  }
  if (!ap.positional().empty()) {
    std::fprintf(stderr, "sloagent inspect cgroups: unexpected argument '%s'\n", ap.positional()[0].c_str());
    return kExitUsage;
  }
  if (!ap.has("--pods-file")) {
    std::fprintf(stderr, "sloagent inspect cgroups: --pods-file is required\n");
    return kExitUsage;
  }
  const std::string root = ap.get("--cgroup-root", "/sys/fs/cgroup");
  const std::string pods_file = ap.get("--pods-file");
  std::ifstream f(pods_file, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "sloagent inspect cgroups: cannot read pods file %s\n", pods_file.c_str());
    return kExitError;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto parsed = model::parse_pod_list(ss.str());
  if (parsed.pods.empty() && parsed.errors.size() == 1 && parsed.errors[0].rfind("PodList", 0) == 0) {
    std::fprintf(stderr, "sloagent inspect cgroups: %s: %s\n", pods_file.c_str(), parsed.errors[0].c_str());
    return kExitError;
  }
  auto fs = cg::CgroupFs::open(root);
  if (!fs.ok()) {
    std::fprintf(stderr, "sloagent inspect cgroups: cannot open cgroup root %s: %s\n", root.c_str(),
                 fs.status.describe().c_str());
    return kExitError;
  }
  const cg::CgroupFs& cgfs = fs.value;
  auto layout = cg::KubeletLayout::detect(cgfs, ap.get("--kubepods-parent"));

  nlohmann::json out;
  out["cgroupRoot"] = root;
  out["mode"] = std::string(cg::to_string(cgfs.mode()));
  out["driver"] = layout ? nlohmann::json(std::string(cg::to_string(layout->driver))) : nlohmann::json();
  out["kubepods"] = layout ? nlohmann::json(layout->kubepods) : nlohmann::json();
  auto& pods = out["pods"] = nlohmann::json::array();
  for (const auto& p : parsed.pods) {
    nlohmann::json pj;
    pj["namespace"] = p.namespace_;
    pj["name"] = p.name;
    pj["uid"] = p.uid;
    pj["qosClass"] = std::string(model::to_string(p.qos));
    pj["kubeQos"] = std::string(model::to_string(p.kube_qos));
    const cg::QosTier tier = model::tier_of(p.kube_qos);
    pj["tier"] = std::string(cg::to_string(tier));
    std::optional<std::string> pod_dir = layout ? layout->pod_dir(tier, p.uid) : std::nullopt;
    if (pod_dir) {
      pj.update(describe_cgroup(cgfs, *pod_dir));
    } else {
      pj["cgroup"] = nullptr;
      pj["found"] = false;
    }
    auto& cs = pj["containers"] = nlohmann::json::array();
    for (const auto& c : p.containers) {
      nlohmann::json cj;
      cj["name"] = c.name;
      cj["containerID"] = c.ref ? nlohmann::json(c.ref->id) : nlohmann::json();
      cj["runtime"] = c.ref ? nlohmann::json(std::string(cg::to_string(c.ref->runtime))) : nlohmann::json();
      std::optional<std::string> dir;
      if (pod_dir && c.ref) {
        // Both return the path relative to the root; the expected spelling is shown when none exists.
        dir = layout->find_container_dir(cgfs, *pod_dir, *c.ref);
        if (!dir) dir = layout->container_dir(*pod_dir, *c.ref);
      }
      if (dir) {
        cj.update(describe_cgroup(cgfs, *dir));
      } else {
        cj["cgroup"] = nullptr;
        cj["found"] = false;
      }
      cs.push_back(std::move(cj));
    }
    pods.push_back(std::move(pj));
  }
  out["errors"] = parsed.errors;
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

const CommandRegistrar registrar{Command{"inspect cgroups", "pod/container cgroups and their knob values as JSON",
                                         kUsage, run}};

}  // namespace
}  // namespace slo::agent
