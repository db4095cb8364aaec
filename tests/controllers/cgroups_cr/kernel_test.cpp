// Kernel test: a Cgroups CR applied by the real agent runtime to a kubelet-shaped subtree of this machine's real
// cgroup hierarchy (v1 here; v2 in the kernel-v2 VM), then reverted when the CR is deleted. Shows the kernel takes
// the values in the order the ordered writer uses (v1 refuses a child CFS quota above its parent's, so the pod's
// quota must be raised first), and that the originals come back.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/cluster_actions.h"
#include "cgroups/cgroup_fs.h"
#include "tests/common/kernel_cgroup.h"
#include "tests/common/support.h"

using namespace slo;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUid = "c0c0c0c0-1111-2222-3333-444444444444";
constexpr const char* kApp = "a9900000000000000000000000000000000000000000000000000000000000001";
constexpr const char* kLog = "a9900000000000000000000000000000000000000000000000000000000000002";
constexpr int64_t Mi = int64_t{1} << 20;

// A whole disk of this machine for the blkio/io throttle ("" when there is none).
std::pair<std::string, std::string> some_disk() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::pair<std::string, std::string> best;
  for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
    std::ifstream in(e.path() / "dev");
    std::string dev;
    std::getline(in, dev);
    if (dev.empty()) continue;
    std::string name = e.path().filename();
    if (best.first.empty() || name.rfind("loop", 0) != 0) best = {name, dev};
    if (name.rfind("vd", 0) == 0 || name.rfind("sd", 0) == 0 || name.rfind("nvme", 0) == 0) return {name, dev};
  }
  return best;
}

std::string pod_list() {
  nlohmann::json ctrs = nlohmann::json::array(), st = nlohmann::json::array();
  for (auto [name, id] : {std::pair{"app", kApp}, std::pair{"log", kLog}}) {
    ctrs.push_back({{"name", name},
                    {"resources", {{"requests", {{"cpu", "100m"}}}, {"limits", {{"cpu", "1"}, {"memory", "256Mi"}}}}}});
    st.push_back({{"name", name}, {"containerID", std::string("containerd://") + id}});
  }
  nlohmann::json pod{{"metadata", {{"name", "web-0"}, {"namespace", "shop"}, {"uid", kUid}}},
                     {"spec", {{"nodeName", "node-1"}, {"containers", ctrs}}},
                     {"status", {{"phase", "Running"}, {"qosClass", "Burstable"}, {"containerStatuses", st}}}};
  return nlohmann::json{{"kind", "PodList"}, {"items", {pod}}}.dump();
}

}  // namespace

TEST_CASE("cgroups cr kernel: quota, memory, cpuset and io applied on the real kernel and reverted") {
  test::KernelCgroup kc;
  test::TempDir tmp;
  const std::string pod_sub = std::string("kubepods/burstable/pod") + kUid;
  const std::string app_sub = pod_sub + "/" + kApp, log_sub = pod_sub + "/" + kLog;
  kc.mkdir(app_sub);
  kc.mkdir(log_sub);
  const bool v2 = kc.v2();
  // What kubelet sets for this pod: each container 1 CPU and 256Mi, the pod the sums.
  auto set_quota = [&](const std::string& sub, int64_t q) {
    REQUIRE(kc.write_file("cpu", sub, v2 ? "cpu.max" : "cpu.cfs_quota_us", std::to_string(q)) == 0);
  };
  auto set_mem = [&](const std::string& sub, int64_t m) {
    REQUIRE(kc.write_file("memory", sub, v2 ? "memory.max" : "memory.limit_in_bytes", std::to_string(m)) == 0);
  };
  set_quota(pod_sub, 200000);
  set_quota(app_sub, 100000);
  set_quota(log_sub, 100000);
  set_mem(pod_sub, 512 * Mi);
  set_mem(app_sub, 256 * Mi);
  set_mem(log_sub, 256 * Mi);

  auto fs = cg::CgroupFs::open(kc.root());
  REQUIRE(fs.ok());
  const std::string app = kc.rel(app_sub), pod = kc.rel(pod_sub);
  auto read = [&](const std::string& cg, cg::Knob k, const std::string& dev = "") -> std::string {
    auto r = fs.value.read({cg, k, dev});
    return r.ok() ? cg::value_to_string(r.value) : "error: " + r.status.describe();
  };
  const std::string cpus_before = read(app, cg::Knob::cpuset_cpus);
  auto disk = some_disk();
  const bool io = !disk.first.empty() && (v2 ? kc.has_controller("io") : kc.has_controller("blkio"));
  if (!io) WARN("no whole disk or no blkio/io controller here: the io part is not exercised");
  const std::string io_before = io ? read(app, cg::Knob::io_read_bps, disk.second) : "";
  // A CPU the pod may use (a v1 child cpuset must be within its parent's).
  auto pod_cpus = cg::CpuSet::parse(read(pod, cg::Knob::cpuset_cpus));
  if (!pod_cpus || pod_cpus->empty()) pod_cpus = cg::CpuSet::parse(kc.read_file("cpuset", pod_sub, "cpuset.cpus.effective"));
  REQUIRE(pod_cpus);
  REQUIRE(!pod_cpus->empty());
  const std::string want_cpus = std::to_string(pod_cpus->ids().back());

  tmp.write("pods.json", pod_list());
  tmp.write("config.yaml", "agent:\n  nodeName: node-1\n  tickMs: 20\n  logLevel: error\n  kubepodsParent: " +
                               kc.base() + "\n  controllers: {enabled: [CgroupsCrController]}\n");
  std::string cr = "apiVersion: resources.alibabacloud.com/v1alpha1\nkind: Cgroups\nmetadata: {name: web-0-k}\n"
                   "spec:\n  pod:\n    name: web-0\n    namespace: shop\n    containers:\n"
                   "    - name: app\n      cpu: 2500m\n      memory: 300Mi\n      cpuset-cpus: \"" + want_cpus + "\"\n";
  if (io)
    cr += "      blkio:\n        device_read_bps:\n          - {device: /dev/" + disk.first + ", value: 10Mi}\n";
  tmp.write("policies/cr.yaml", cr);

  agent::AgentOptions o;
  o.config_path = tmp.sub("config.yaml");
  o.policy_dir = tmp.sub("policies");
  o.cgroup_root = kc.root();
  o.sysfs_root = "/sys";
  o.proc_root = "/proc";
  o.state_dir = tmp.sub("state");
  o.pod_source = std::make_unique<agent::FilePodSource>(tmp.sub("pods.json"), 1000ms);
  o.handle_signals = false;
  o.watch = false;
  {
    agent::Agent a(std::move(o));
    auto err = a.init();
    INFO(err.value_or(""));
    REQUIRE(!err);
    REQUIRE(a.sync_pods_now());
    a.tick(true);
    a.tick(true);
    // Raised above the pod's old 2 CPUs: the kernel accepted it because the pod went to 3.5 CPUs first.
    CHECK(read(app, cg::Knob::cpu_quota) == "250000");
    CHECK(read(pod, cg::Knob::cpu_quota) == "350000");
    CHECK(read(kc.rel(log_sub), cg::Knob::cpu_quota) == "100000");
    CHECK(read(app, cg::Knob::memory_limit) == std::to_string(300 * Mi));
    CHECK(read(pod, cg::Knob::memory_limit) == std::to_string(556 * Mi));
    CHECK(read(app, cg::Knob::cpuset_cpus) == want_cpus);
    if (io) CHECK(read(app, cg::Knob::io_read_bps, disk.second) == std::to_string(10 * Mi));
    CHECK(a.executor().stats().writes_error == 0);
    auto& rec = dynamic_cast<agent::RecordingClusterActions&>(a.cluster());
    REQUIRE(rec.cgroups_status.count("web-0-k"));
    INFO(rec.cgroups_status.at("web-0-k").dump());
    CHECK(rec.cgroups_status.at("web-0-k")["containers"][0]["state"] == "Applied");

    // CR deleted: every value back at what kubelet set.
    std::filesystem::remove(tmp.sub("policies/cr.yaml"));
    REQUIRE(a.reload_config());
    a.tick(true);
    CHECK(read(app, cg::Knob::cpu_quota) == "100000");
    CHECK(read(pod, cg::Knob::cpu_quota) == "200000");
    CHECK(read(app, cg::Knob::memory_limit) == std::to_string(256 * Mi));
    CHECK(read(pod, cg::Knob::memory_limit) == std::to_string(512 * Mi));
    CHECK(read(app, cg::Knob::cpuset_cpus) == cpus_before);
    if (io) CHECK(read(app, cg::Knob::io_read_bps, disk.second) == io_before);
    CHECK(a.executor().stats().writes_error == 0);
  }
}
