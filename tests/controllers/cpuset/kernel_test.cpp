// The cpuset controller's intents applied to this machine's real cpuset hierarchy through cg::OrderedWriter, in a
// throw-away subtree (KernelCgroup): cgroup v1 on the host, cgroup2 in the VM suite (kernel-v2), where the kernel
// accepts orders that v1 refuses and clamps the effective set instead. Values are read back with plain file reads,
// not with the library under test.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/decide/cpuset/cpuset_controller.h"
#include "cgroups/ordered_writer.h"
#include "tests/common/kernel_cgroup.h"
#include "tests/common/support.h"

using namespace slo;
using cg::CpuSet;

namespace {

struct Sink : agent::IntentSink {
  std::vector<cg::KnobWrite> batch;
  void set(const cg::KnobRef& ref, const cg::KnobValue& v, const std::string&) override { batch.push_back({ref, std::move(v)}); }
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A kubepods tree below the test subtree, one pod per entry, each with one container running a sleeping process.
struct Tree {
  test::KernelCgroup& kc;
  agent::HostInfo host;
  std::vector<agent::PodState> pods;

  explicit Tree(test::KernelCgroup& k) : kc(k) {
    auto t = model::Topology::read("/sys");
    REQUIRE(t.ok());
    host.topology = t.value;
    cg::KubeletLayout l;
    l.driver = cg::Driver::cgroupfs;
    l.kubepods = kc.rel("kubepods");
    host.layout = l;
    kc.mkdir("kubepods/burstable");
    kc.mkdir("kubepods/besteffort");
  }
  agent::PodState add(const std::string& name, model::QosClass q, int64_t millis, cg::QosTier tier,
                       const std::string& status = "") {
    agent::PodState ps;
    ps.pod.name = name;
    ps.pod.namespace_ = "ns";
    ps.pod.uid = "uid" + name;
    ps.pod.phase = "Running";
    ps.pod.qos = q;
    if (!status.empty()) ps.pod.annotations[std::string(model::kResourceStatusAnnotation)] = status;
    ps.tier = tier;
    const std::string sub = std::string(tier == cg::QosTier::burstable ? "kubepods/burstable" : "kubepods/besteffort") +
                            "/pod" + ps.pod.uid;
    kc.mkdir(sub + "/c1");
    kc.spawn(sub + "/c1");
    ps.cgroup = kc.rel(sub);
    agent::ContainerState c;
    c.spec.name = "c1";
    c.spec.requests.cpu_millis = millis;
    ps.pod.containers.push_back(c.spec);
    c.cgroup = kc.rel(sub + "/c1");
    ps.containers.push_back(c);
    pods.push_back(ps);
    return pods.back();
  }
  std::string cpus(const std::string& rel_to_root) const { return read(rel_to_root, "cpuset.cpus"); }
  // The CPUs the kernel really lets the cgroup's tasks use (v1 cpuset.effective_cpus, v2 cpuset.cpus.effective).
  std::string effective(const std::string& rel_to_root) const {
    return read(rel_to_root, kc.v2() ? "cpuset.cpus.effective" : "cpuset.effective_cpus");
  }
  std::string read(const std::string& rel_to_root, const std::string& file,
                   const std::string& controller = "cpuset") const {
    // rel_to_root is relative to the hierarchy root; KernelCgroup::dir wants it relative to base().
    return trim(kc.read_file(controller, rel_to_root.substr(kc.base().size() + 1), file));
  }
  std::vector<cg::WriteOutcome> decide_and_apply(cpuset::CpusetController& c, uint64_t tick) {
    agent::Snapshot s;
    s.tick = tick;
    s.host = &host;
    s.pods = pods;
    agent::Blackboard board;
    Sink sink;
    c.decide(s, board, sink);
    auto fs = cg::CgroupFs::open(kc.root());
    REQUIRE(fs.ok());
    cg::OrderedWriter w(fs.value);
    return w.apply(sink.batch);
  }
};

void require_all_ok(const std::vector<cg::WriteOutcome>& outs) {
  for (const auto& o : outs) {
    INFO(o.write.ref.to_string() << " = " << cg::value_to_string(o.write.value) << ": " << o.status.describe());
    CHECK(o.status.ok());
  }
}

bool two_cpus_or_skip() {
  auto t = model::Topology::read("/sys");
  if (!t.ok() || t.value.cpus.size() < 2) {
    WARN("SKIP: needs at least 2 online CPUs");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("pools applied to real cpuset cgroups: pinned LSR pod, share pool, BE pool, tiers", "[kernel]") {
  if (!two_cpus_or_skip()) return;
  test::KernelCgroup kc;
  Tree tree(kc);
  test::TempDir state;
  tree.host.state_dir = state.path();
  auto lsr = tree.add("lsr", model::QosClass::LSR, 1000, cg::QosTier::burstable);
  auto ls = tree.add("ls", model::QosClass::LS, 200, cg::QosTier::burstable);
  auto be = tree.add("be", model::QosClass::BE, 0, cg::QosTier::besteffort);
  const std::string lsr_c = lsr.containers[0].cgroup, ls_c = ls.containers[0].cgroup, be_c = be.containers[0].cgroup;
  const std::string lsr_p = lsr.cgroup;
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  require_all_ok(tree.decide_and_apply(c, 1));
  const std::string pin = c.last_plan().pinned.at("ns/lsr").cpus.to_string();
  const std::string share = c.last_plan().share.to_string();
  CHECK(c.last_plan().pinned.at("ns/lsr").cpus.size() == 1);
  CHECK(tree.cpus(lsr_c) == pin);
  CHECK(tree.cpus(lsr_p) == pin);
  CHECK(tree.cpus(ls_c) == share);
  CHECK(pin != share);
  // BE may share the LSR CPU: the whole BE pool is both CPUs.
  CHECK(tree.cpus(be_c) == c.last_plan().be.to_string());
  CHECK(c.last_plan().be.size() == tree.host.topology.cpus.size());
  CHECK(tree.effective(lsr_c) == pin);
  CHECK(tree.effective(ls_c) == share);
  // Pinned pods have their CFS quota unset.
  if (kc.v2())
    CHECK(tree.read(lsr_c, "cpu.max", "cpu").rfind("max ", 0) == 0);
  else
    CHECK(tree.read(lsr_c, "cpu.cfs_quota_us", "cpu") == "-1");
  // A second tick changes nothing: every write is skipped as unchanged.
  for (const auto& o : tree.decide_and_apply(c, 2)) CHECK_FALSE(o.changed);
}

TEST_CASE("moving a pin between CPUs needs the ordered writer: v1 refuses both naive orders, v2 misplaces tasks",
          "[kernel]") {
  if (!two_cpus_or_skip()) return;
  test::KernelCgroup kc;
  // Naive orders on a twin pod: pod and container on CPU 0, target CPU 1.
  kc.mkdir("naive/c1");
  REQUIRE(kc.write_file("cpuset", "naive/c1", "cpuset.cpus", "0") == 0);  // narrowing: child first
  REQUIRE(kc.write_file("cpuset", "naive", "cpuset.cpus", "0") == 0);
  kc.spawn("naive/c1");
  auto child = [&](const char* file) { return trim(kc.read_file("cpuset", "naive/c1", file)); };
  if (!kc.v2()) {
    // Parent first: shrinking it away from the child's CPU is refused.
    int parent_first = kc.write_file("cpuset", "naive", "cpuset.cpus", "1");
    CHECK((parent_first == EBUSY || parent_first == EINVAL));
    // Child first: widening beyond the parent is refused.
    int child_first = kc.write_file("cpuset", "naive/c1", "cpuset.cpus", "1");
    CHECK((child_first == EACCES || child_first == EINVAL));
    CHECK(child("cpuset.cpus") == "0");
  } else {
    // cgroup2 refuses neither order. A child whose cpuset.cpus has no CPU in its parent's effective set runs on the
    // parent's effective CPUs instead, so either naive order puts the container's tasks on a CPU nobody chose for
    // it until the second write lands.
    // Parent first: accepted; the container (still asking for CPU 0) now runs on CPU 1, the pod's.
    CHECK(kc.write_file("cpuset", "naive", "cpuset.cpus", "1") == 0);
    CHECK(child("cpuset.cpus") == "0");
    CHECK(child("cpuset.cpus.effective") == "1");
    REQUIRE(kc.write_file("cpuset", "naive", "cpuset.cpus", "0") == 0);
    CHECK(child("cpuset.cpus.effective") == "0");
    // Child first: widening beyond the parent is accepted but clamped: it keeps running on CPU 0.
    CHECK(kc.write_file("cpuset", "naive/c1", "cpuset.cpus", "1") == 0);
    CHECK(child("cpuset.cpus") == "1");
    CHECK(child("cpuset.cpus.effective") == "0");
    // Both settle once the parent follows.
    CHECK(kc.write_file("cpuset", "naive", "cpuset.cpus", "1") == 0);
    CHECK(child("cpuset.cpus.effective") == "1");
  }

  // The controller moves the same kind of pin (the scheduler changed its decision) and the writer orders it.
  Tree tree(kc);
  tree.add("p", model::QosClass::LSR, 1000, cg::QosTier::burstable, R"({"cpuset":"0"})");
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  require_all_ok(tree.decide_and_apply(c, 1));
  const std::string pod = tree.pods[0].cgroup, ctr = tree.pods[0].containers[0].cgroup;
  CHECK(tree.cpus(pod) == "0");
  CHECK(tree.cpus(ctr) == "0");
  tree.pods[0].pod.annotations[std::string(model::kResourceStatusAnnotation)] = R"({"cpuset":"1"})";
  auto outs = tree.decide_and_apply(c, 2);
  require_all_ok(outs);
  CHECK(tree.cpus(pod) == "1");
  CHECK(tree.cpus(ctr) == "1");
  CHECK(tree.effective(ctr) == "1");
  CHECK(c.last_plan().pinned.at("ns/p").source == "scheduler");
}

TEST_CASE("a pod leaving gives its CPU back to the share pool", "[kernel]") {
  if (!two_cpus_or_skip()) return;
  test::KernelCgroup kc;
  Tree tree(kc);
  tree.add("pinned", model::QosClass::LSR, 1000, cg::QosTier::burstable);
  tree.add("ls", model::QosClass::LS, 100, cg::QosTier::burstable);
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  require_all_ok(tree.decide_and_apply(c, 1));
  const std::string ls_c = tree.pods[1].containers[0].cgroup;
  const CpuSet pin = c.last_plan().pinned.at("ns/pinned").cpus;
  CHECK(tree.cpus(ls_c) == (tree.host.topology.all() - pin).to_string());
  CHECK(tree.cpus(tree.host.layout->tier_dir(cg::QosTier::burstable)) == tree.host.topology.all().to_string());
  // The pinned pod ends: kubelet removes its cgroups; the next tick widens the LS pod to every CPU (the writer
  // widens the tier and the pod before the container).
  tree.pods.erase(tree.pods.begin());
  auto outs = tree.decide_and_apply(c, 2);
  require_all_ok(outs);
  CHECK(tree.cpus(ls_c) == tree.host.topology.all().to_string());
  CHECK(tree.cpus(tree.pods[0].cgroup) == tree.host.topology.all().to_string());
  CHECK(c.last_plan().pinned.empty());
  CHECK(c.last_plan().share == tree.host.topology.all());
}
