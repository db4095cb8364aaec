// BE suppression through the real Agent on this machine's real cgroups: a kubelet-layout tree in a throw-away
// subtree (KernelCgroup), an LS pod whose container runs busy loops for a few seconds (the spike), and a BE pod.
// The BE budget must shrink within a few CFS periods of the spike and grow back after it, for both
// cpuSuppressPolicy values: cfsQuota (the besteffort tier's cpu.cfs_quota_us drops) and cpuset (the cpuset
// controller narrows the BE pool: the BE container's cpuset.cpus loses CPUs). Values are read back with plain file
// reads. /proc/stat and /proc/meminfo come from a still fake --proc-root: the helpers' builds sharing this machine
// would otherwise count as "system usage" and swamp the budget (the system term is unit-tested on snapshots); the
// LS usage is the real cpuacct usage of the LS pod cgroup.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/log.h"
#include "tests/common/kernel_cgroup.h"
#include "tests/common/support.h"

using namespace slo;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kLsUid = "0000c0c0-aaaa-bbbb-cccc-000000000001";
const std::string kBeUid = "0000c0c0-aaaa-bbbb-cccc-000000000002";
const std::string kLsCid = std::string(56, '1') + "00000001";
const std::string kBeCid = std::string(56, '2') + "00000002";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

size_t cpu_count(const std::string& list) {  // "0-1" → 2, "1" → 1, "0,2-3" → 3
  size_t n = 0;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    std::string part = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() : comma + 1;
    if (part.empty()) continue;
    auto dash = part.find('-');
    n += dash == std::string::npos ? 1 : static_cast<size_t>(std::stoi(part.substr(dash + 1)) - std::stoi(part) + 1);
  }
  return n;
}

struct Node {
  test::KernelCgroup kc;
  test::TempDir tmp;
  std::string ls_ctr = "kubepods/burstable/pod" + kLsUid + "/" + kLsCid;
  std::string be_ctr = "kubepods/besteffort/pod" + kBeUid + "/" + kBeCid;
  std::vector<pid_t> spike;

  Node() {
    kc.mkdir(ls_ctr);
    kc.mkdir(be_ctr);
    // The subtree competes with the whole machine (other builds) as one group: weight it up so the LS spike
    // really gets CPU time for the few seconds it lasts.
    kc.write_file("cpu", "", "cpu.shares", "8192");
    kc.write_file("cpu", "kubepods/burstable/pod" + kLsUid, "cpu.shares", "8192");
    kc.spawn(ls_ctr);  // the LS server, idle
    kc.spawn(be_ctr);  // the BE job (asleep: its budget is what is measured, not its speed)
    // As many cpuN lines as online CPUs: the runtime takes the node's capacity from them.
    std::string stat = "cpu  1000 0 1000 100000 0 0 0 0 0 0\n";
    for (long i = 0; i < ::sysconf(_SC_NPROCESSORS_ONLN); ++i)
      stat += "cpu" + std::to_string(i) + " 500 0 500 50000 0 0 0 0 0 0\n";
    tmp.write("proc/stat", stat);
    tmp.write("proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 12582912 kB\n");
    auto pod = [](const std::string& name, const std::string& uid, const std::string& cid, const std::string& qos,
                  const std::string& kqos, const std::string& res) {
      return R"({"metadata":{"name":")" + name + R"(","namespace":"k","uid":")" + uid +
             R"(","labels":{"koordinator.sh/qosClass":")" + qos + R"("}},"spec":{"nodeName":"node-1","containers":[{"name":"c","resources":)" +
             res + R"(}]},"status":{"phase":"Running","qosClass":")" + kqos +
             R"(","containerStatuses":[{"name":"c","containerID":"containerd://)" + cid + R"(","ready":true}]}})";
    };
    tmp.write("pods.json", R"({"kind":"PodList","apiVersion":"v1","items":[)" +
                               pod("web", kLsUid, kLsCid, "LS", "Burstable",
                                   R"({"requests":{"cpu":"500m"},"limits":{"cpu":"2"}})") +
                               "," + pod("batch", kBeUid, kBeCid, "BE", "BestEffort", "{}") + "]}");
  }
  ~Node() { end_spike(); }

  void start_spike(int n) {
    for (int i = 0; i < n; ++i) spike.push_back(kc.spawn(ls_ctr, true));
  }
  void end_spike() {
    for (pid_t p : spike) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    spike.clear();
  }

  agent::AgentOptions options(const std::string& policy, const std::string& controllers) {
    tmp.write("config.yaml", "agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 500\n"
                             "  controllers: {enabled: [" + controllers + "]}\n"
                             "clusterStrategy:\n"
                             "  resourceThresholdStrategy: {cpuSuppressThresholdPercent: 75, cpuSuppressPolicy: " +
                                 policy +
                                 ", beMinCPUCores: 0.25, periodMillis: 200, beMaxGrowthCoresPerTick: 0.5,\n"
                                 "    memoryEvictThresholdPercent: 100, memoryEvictLowerPercent: 99}\n"
                                 // The BE pool follows the budget at the cpuset controller's period (default 1 s).
                                 "  cpusetStrategy: {periodSeconds: 0.2}\n");
    agent::AgentOptions o;
    o.config_path = tmp.sub("config.yaml");
    o.cgroup_root = kc.root();
    o.overrides.kubepods_parent = kc.base();
    o.sysfs_root = "/sys";
    o.proc_root = tmp.sub("proc");
    o.state_dir = tmp.sub("state");
    o.pod_source = std::make_unique<agent::FilePodSource>(tmp.sub("pods.json"), 1000ms);
    o.handle_signals = false;
    o.watch = false;
    return o;
  }
};

// Runs the agent loop on its own thread; stops it (restoring every knob) on destruction.
struct Running {
  agent::Agent& a;
  std::thread t;
  explicit Running(agent::Agent& ag) : a(ag), t([this] { a.run(); }) {}
  ~Running() {
    a.request_stop(true);
    t.join();
  }
};

std::optional<Clock::duration> wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (pred()) return Clock::now() - start;
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool two_cpus() {
  std::ifstream f("/sys/devices/system/cpu/online");
  std::string s;
  std::getline(f, s);
  return cpu_count(trim(s)) >= 2;
}

}  // namespace

TEST_CASE("kernel: an LS spike shrinks the BE tier quota (cfsQuota) and it grows back", "[kernel][colocation]") {
  if (!two_cpus()) {
    WARN("SKIP: needs at least 2 online CPUs");
    return;
  }
  Node n;
  std::string tier = "kubepods/besteffort";
  const std::string original = trim(n.kc.read_file("cpu", tier, "cpu.cfs_quota_us"));
  agent::Agent a(n.options("cfsQuota", "BeSuppressionController"));
  auto err = a.init();
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  const double cpus = a.snapshot().node.cpu_capacity_cores;
  // Idle LS: budget = CPUs × 75 % (1.5 cores on 2 CPUs) → quota CPUs × 75 000 µs.
  const int64_t full = static_cast<int64_t>(cpus * 75000);
  auto quota = [&] { return std::stoll(trim(n.kc.read_file("cpu", tier, "cpu.cfs_quota_us"))); };
  {
    Running run(a);
    auto settled = wait_until([&] { return quota() >= full - 5000; }, 15s);
    INFO("tier quota " << quota() << ", expected about " << full);
    REQUIRE(settled);
    // Spike: as many busy loops as CPUs in the LS container. Shrunk once LS uses ≥ 0.4 cores.
    n.start_spike(static_cast<int>(cpus));
    auto reacted = wait_until([&] { return quota() <= full - 40000; }, 10s);
    INFO("tier quota " << quota() << " during the spike");
    REQUIRE(reacted);
    std::printf("cfsQuota: spike → BE tier quota %lld → ≤ %lld µs in %.0f ms (%.1f CFS periods)\n",
                static_cast<long long>(full), static_cast<long long>(quota()), ms(*reacted), ms(*reacted) / 100);
    std::this_thread::sleep_for(1500ms);  // held down while the spike lasts
    int64_t during = quota();
    CHECK(during < full - 20000);
    CHECK(during >= static_cast<int64_t>(0.25 * 100000) - 1000);  // beMinCPUCores floor
    n.end_spike();
    auto back = wait_until([&] { return quota() >= full - 5000; }, 10s);
    INFO("tier quota " << quota() << " after the spike");
    REQUIRE(back);
    std::printf("cfsQuota: spike over → quota back to %lld µs in %.0f ms (during the spike: %lld)\n",
                static_cast<long long>(quota()), ms(*back), static_cast<long long>(during));
  }
  // Stopped with restore: the tier quota is the kernel's original again.
  CHECK(trim(n.kc.read_file("cpu", tier, "cpu.cfs_quota_us")) == original);
}

TEST_CASE("kernel: an LS spike narrows the BE pool cpuset (cpuset policy) and it widens back", "[kernel][colocation]") {
  if (!two_cpus()) {
    WARN("SKIP: needs at least 2 online CPUs");
    return;
  }
  Node n;
  auto be_cpus = [&] { return cpu_count(trim(n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus"))); };
  const std::string original = trim(n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus"));
  agent::Agent a(n.options("cpuset", "BeSuppressionController, CpusetController"));
  auto err = a.init();
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  const size_t cpus = static_cast<size_t>(a.snapshot().node.cpu_capacity_cores);
  // Idle LS: budget CPUs × 75 % → ⌈1.5⌉ = 2 of 2 CPUs. LS at ≥ 0.5 cores: budget ≤ 1 → 1 CPU.
  const size_t full = static_cast<size_t>(std::ceil(static_cast<double>(cpus) * 0.75 - 1e-9));
  {
    Running run(a);
    auto settled = wait_until([&] { return be_cpus() == full; }, 15s);
    INFO("BE cpuset " << n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus"));
    REQUIRE(settled);
    n.start_spike(static_cast<int>(cpus));
    auto reacted = wait_until([&] { return be_cpus() < full; }, 10s);
    INFO("BE cpuset " << n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus") << " during the spike");
    REQUIRE(reacted);
    std::printf("cpuset: spike → BE pool %zu → %zu CPUs (%s) in %.0f ms (%.1f CFS periods)\n", full, be_cpus(),
                trim(n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus")).c_str(), ms(*reacted), ms(*reacted) / 100);
    std::this_thread::sleep_for(1500ms);
    size_t during = be_cpus();
    CHECK(during < full);
    CHECK(during >= 1);  // the BE pool never empties (beMinCpus)
    n.end_spike();
    auto back = wait_until([&] { return be_cpus() == full; }, 10s);
    INFO("BE cpuset " << n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus") << " after the spike");
    REQUIRE(back);
    std::printf("cpuset: spike over → BE pool back to %zu CPUs in %.0f ms\n", be_cpus(), ms(*back));
  }
  CHECK(trim(n.kc.read_file("cpuset", n.be_ctr, "cpuset.cpus")) == original);
}
