#include "tests/controllers/cgroups_cr/cr_world.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "agent/observe/file_pod_source.h"

namespace slo::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kDockerId = "b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242";
constexpr const char* kAmznPod = "7a96c459-d529-44ae-9f99-90d3798d6426";
constexpr const char* kAmznCtr = "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496";
constexpr const char* kAmznScope =
    "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice/"
    "cri-containerd-1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496.scope";
constexpr const char* kOnline = "0-19";  // sysfs/nri-desktop-20cpu

void put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

void copy_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from))
    if (e.is_regular_file()) fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
}

std::string underscores(std::string s) {
  for (auto& c : s)
    if (c == '-') c = '_';
  return s;
}

}  // namespace

std::string to_string(Tree t) {
  switch (t) {
    case Tree::v1_cgroupfs: return "v1 cgroupfs";
    case Tree::v1_systemd: return "v1 systemd";
    case Tree::v2_cgroupfs: return "v2 cgroupfs";
    case Tree::v2_systemd: return "v2 systemd";
  }
  return "?";
}

std::string CrWorld::make_sysfs(const TempDir& tmp, const std::string& rel) {
  const fs::path sys = fs::path(tmp.sub(rel)) / "sys";
  fs::create_directories(sys);
  // The CPU topology is only read: link the fixture's devices/ instead of copying its ~700 files.
  fs::create_directory_symlink(fixture("sysfs/nri-desktop-20cpu") + "/sys/devices", sys / "devices");
  // Block devices as sysfs shows them: /sys/block/<disk>/dev and /sys/dev/block/MAJ:MIN (a partition has a
  // `partition` file).
  put(sys / "block/vda/dev", "253:0\n");
  put(sys / "class/block/vda/dev", "253:0\n");
  put(sys / "class/block/vda1/dev", "253:1\n");
  put(sys / "class/block/vda1/partition", "1\n");
  put(sys / "dev/block/253:0/dev", "253:0\n");
  put(sys / "dev/block/253:1/dev", "253:1\n");
  put(sys / "dev/block/253:1/partition", "1\n");
  return tmp.sub(rel);
}

CrPod CrWorld::fixture_pod() {
  CrPod p;
  p.name = "web-0";
  p.uid = kAmznPod;
  p.labels = {{"app", "web"}};
  // The fixture container has no CFS quota and a 2 GiB memory limit.
  p.containers.push_back({"server", kAmznCtr, std::nullopt, int64_t{2147483648}});
  return p;
}

CrWorld::CrWorld(Tree t) : tree_(t) {
  make_sysfs(tmp_, "sysfs");
  switch (t) {
    case Tree::v1_cgroupfs: {
      root_ = tmp_.copy_fixture("cgroup/elastic-docker-v1-cgroupfs/sys/fs/cgroup", "cgroup");
      for (const char* c : {"blkio", "cpu", "cpuacct", "cpuset", "memory"})
        templates_[c] = root_ + "/" + c + "/docker/" + kDockerId;
      break;
    }
    case Tree::v1_systemd: {
      root_ = tmp_.copy_fixture("cgroup/elastic-amzn2-eks-v1-systemd-containerd/sys/fs/cgroup", "cgroup");
      for (const char* c : {"blkio", "cpu,cpuacct", "cpuset", "memory", "pids"})
        templates_[c] = root_ + "/" + c + "/" + kAmznScope;
      break;
    }
    case Tree::v2_cgroupfs:
    case Tree::v2_systemd: {
      root_ = tmp_.copy_fixture("cgroup/elastic-docker2-v2-unified/sys/fs/cgroup", "cgroup");
      std::string scope = root_ + "/user.slice/user-1000.slice/session-520.scope";
      // The fixture host ran without the io and cpuset controllers in this subtree; a kubepods tree has them.
      put(scope + "/cgroup.controllers", "cpuset cpu io memory pids\n");
      put(scope + "/io.max", "");
      put(scope + "/cpuset.cpus", "\n");
      put(scope + "/cpuset.cpus.effective", std::string(kOnline) + "\n");
      put(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
      put(root_ + "/cgroup.subtree_control", "cpuset cpu io memory pids\n");
      templates_[""] = scope;
      break;
    }
  }
  // Kernel CFS burst (5.14+) at the top of the cpu hierarchy: HostInfo::kernel_burst.
  if (!v2()) put(root_ + "/" + (systemd() ? "cpu,cpuacct" : "cpu") + "/cpu.cfs_burst_us", "0\n");
  const std::string kp = systemd() ? "kubepods.slice" : "kubepods";
  make_cgroup(kp, std::nullopt, std::nullopt);
  make_cgroup(kp + (systemd() ? "/kubepods-burstable.slice" : "/burstable"), std::nullopt, std::nullopt);
  if (tree_ == Tree::v1_systemd) {
    // The fixture's own pod: its slice directories exist but hold no files in the capture; give them a pod's.
    auto p = fixture_pod();
    make_cgroup(pod_cgroup(p), std::nullopt, p.containers[0].memory_bytes);
    pods_.push_back(p);
  }
  write_pods();
  write_config({"CgroupsCrController"});
  fs::create_directories(tmp_.sub("policies"));
}

std::string CrWorld::ctrl_dir(const std::string& file) const {
  if (v2()) return "";
  auto prefix = file.substr(0, file.find('.'));
  if (prefix == "cpu" || prefix == "cpuacct") return systemd() ? "cpu,cpuacct" : prefix;
  return prefix;
}

void CrWorld::make_cgroup(const std::string& cgroup, std::optional<int64_t> quota_us,
                          std::optional<int64_t> mem) const {
  for (const auto& [dir, tmpl] : templates_) {
    fs::path d = dir.empty() ? fs::path(root_) / cgroup : fs::path(root_) / dir / cgroup;
    if (d.string() != tmpl) copy_files(tmpl, d);
    if (v2()) {
      put(d / "cpu.max", (quota_us ? std::to_string(*quota_us) : std::string("max")) + " 100000\n");
      put(d / "memory.max", (mem ? std::to_string(*mem) : std::string("max")) + "\n");
      put(d / "io.max", "");
      put(d / "cpuset.cpus", "\n");
      put(d / "cpuset.cpus.effective", std::string(kOnline) + "\n");
      put(d / "cpu.max.burst", "0\n");
      continue;
    }
    if (dir == "cpu" || dir == "cpu,cpuacct") {
      put(d / "cpu.cfs_quota_us", std::to_string(quota_us.value_or(-1)) + "\n");
      put(d / "cpu.cfs_period_us", "100000\n");
      put(d / "cpu.cfs_burst_us", "0\n");
    } else if (dir == "memory") {
      put(d / "memory.limit_in_bytes", (mem ? std::to_string(*mem) : std::string("9223372036854771712")) + "\n");
    } else if (dir == "cpuset") {
      put(d / "cpuset.cpus", std::string(kOnline) + "\n");
    } else if (dir == "blkio") {
      for (const char* f : {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                            "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"})
        put(d / f, "");
    }
  }
}

std::string CrWorld::pod_cgroup(const CrPod& p) const {
  if (systemd()) return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + underscores(p.uid) + ".slice";
  return "kubepods/burstable/pod" + p.uid;
}

std::string CrWorld::ctr_cgroup(const CrPod& p, const std::string& ctr) const {
  for (const auto& c : p.containers)
    if (c.name == ctr) return pod_cgroup(p) + "/" + (systemd() ? "cri-containerd-" + c.id + ".scope" : c.id);
  throw std::runtime_error("no container " + ctr + " in pod " + p.name);
}

void CrWorld::add_pod(const CrPod& p) {
  pods_.push_back(p);
  int64_t pod_quota = 0, pod_mem = 0;
  bool cpu_all = true, mem_all = true;
  for (const auto& c : p.containers) {
    if (c.cpu_millis) pod_quota += *c.cpu_millis * 100; else cpu_all = false;
    if (c.memory_bytes) pod_mem += *c.memory_bytes; else mem_all = false;
  }
  make_cgroup(pod_cgroup(p), cpu_all ? std::optional<int64_t>(pod_quota) : std::nullopt,
              mem_all ? std::optional<int64_t>(pod_mem) : std::nullopt);
  if (p.started)
    for (const auto& c : p.containers)
      make_cgroup(ctr_cgroup(p, c.name), c.cpu_millis ? std::optional<int64_t>(*c.cpu_millis * 100) : std::nullopt,
                  c.memory_bytes);
  write_pods();
}

void CrWorld::start_pod(const std::string& uid) {
  for (auto& p : pods_)
    if (p.uid == uid && !p.started) {
      p.started = true;
      for (const auto& c : p.containers)
        make_cgroup(ctr_cgroup(p, c.name), c.cpu_millis ? std::optional<int64_t>(*c.cpu_millis * 100) : std::nullopt,
                    c.memory_bytes);
    }
  write_pods();
}

const CrPod& CrWorld::pod(const std::string& name) const {
  for (const auto& p : pods_)
    if (p.name == name) return p;
  throw std::runtime_error("no pod " + name);
}

void CrWorld::write_pods() const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& p : pods_) {
    nlohmann::json ctrs = nlohmann::json::array(), statuses = nlohmann::json::array();
    for (const auto& c : p.containers) {
      nlohmann::json limits = nlohmann::json::object(), requests = {{"cpu", "100m"}, {"memory", "64Mi"}};
      if (c.cpu_millis) limits["cpu"] = std::to_string(*c.cpu_millis) + "m";
      if (c.memory_bytes) limits["memory"] = std::to_string(*c.memory_bytes);
      ctrs.push_back({{"name", c.name}, {"image", "demo"}, {"resources", {{"requests", requests}, {"limits", limits}}}});
      nlohmann::json st{{"name", c.name}, {"ready", p.started}};
      if (p.started) st["containerID"] = "containerd://" + c.id;
      statuses.push_back(st);
    }
    nlohmann::json owners = nlohmann::json::array();
    for (const auto& o : p.owners) {
      auto slash = o.find('/');
      owners.push_back({{"apiVersion", "apps/v1"}, {"kind", o.substr(0, slash)}, {"name", o.substr(slash + 1)},
                        {"controller", true}, {"uid", "owner-" + o.substr(slash + 1)}});
    }
    nlohmann::json meta{{"name", p.name}, {"namespace", p.ns}, {"uid", p.uid}, {"labels", p.labels}};
    if (!owners.empty()) meta["ownerReferences"] = owners;
    items.push_back({{"metadata", meta},
                     {"spec", {{"nodeName", "node-1"}, {"containers", ctrs}}},
                     {"status", {{"phase", "Running"}, {"qosClass", "Burstable"}, {"containerStatuses", statuses}}}});
  }
  nlohmann::json list{{"kind", "PodList"}, {"apiVersion", "v1"}, {"items", items}};
  std::string path = tmp_.sub("pods.json");
  put(path + ".tmp", list.dump());
  fs::rename(path + ".tmp", path);
}

void CrWorld::put_cr(const std::string& name, const std::string& yaml) const {
  put(tmp_.sub("policies/" + name + ".yaml"), yaml);
}

void CrWorld::remove_cr(const std::string& name) const { fs::remove(tmp_.sub("policies/" + name + ".yaml")); }

void CrWorld::write_config(const std::vector<std::string>& controllers, const std::string& strategy) const {
  std::string list;
  for (const auto& c : controllers) list += (list.empty() ? "" : ", ") + c;
  std::string text = "agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 100\n  logLevel: error\n"
                     "  controllers: {enabled: [" + list + "]}\n";
  if (!strategy.empty()) text += "clusterStrategy:\n" + strategy;
  put(tmp_.sub("config.yaml"), text);
}

agent::AgentOptions CrWorld::options() const {
  agent::AgentOptions o;
  o.config_path = tmp_.sub("config.yaml");
  o.policy_dir = tmp_.sub("policies");
  o.cgroup_root = root_;
  o.sysfs_root = tmp_.sub("sysfs");
  o.proc_root = "/proc";
  o.state_dir = tmp_.sub("state");
  o.pod_source = std::make_unique<agent::FilePodSource>(tmp_.sub("pods.json"), 1000ms);
  o.handle_signals = false;
  o.watch = false;
  return o;
}

std::optional<cg::KnobValue> CrWorld::knob(const std::string& cgroup, cg::Knob k, const std::string& dev) const {
  auto f = cg::CgroupFs::open(root_);
  if (!f.ok()) return std::nullopt;
  auto r = f.value.read({cgroup, k, dev});
  if (!r.ok()) return std::nullopt;
  return r.value;
}

std::optional<int64_t> CrWorld::int_knob(const std::string& cgroup, cg::Knob k, const std::string& dev) const {
  auto v = knob(cgroup, k, dev);
  if (!v || !std::holds_alternative<int64_t>(*v)) return std::nullopt;
  return std::get<int64_t>(*v);
}

std::string CrWorld::cpus(const std::string& cgroup) const {
  auto v = knob(cgroup, cg::Knob::cpuset_cpus);
  return v ? cg::value_to_string(*v) : "?";
}

std::string CrWorld::raw(const std::string& cgroup, const std::string& file) const {
  std::string dir = ctrl_dir(file);
  return first_line(fs::path(root_) / (dir.empty() ? "" : dir) / cgroup / file);
}

}  // namespace slo::test
