// The cpuset controller on hand-built snapshots: intents captured by a test sink.
#include <filesystem>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "agent/decide/cpuset/cpuset_controller.h"
#include "tests/common/support.h"

using namespace slo;
using cg::CpuSet;
using cg::Knob;
using cg::KnobRef;

namespace {

struct Sink : agent::IntentSink {
  std::map<KnobRef, std::pair<cg::KnobValue, std::string>> got;
  void set(const KnobRef& ref, cg::KnobValue v, std::string reason) override { got[ref] = {std::move(v), std::move(reason)}; }
  std::optional<CpuSet> cpus(const std::string& cgroup) const {
    auto it = got.find(KnobRef{cgroup, Knob::cpuset_cpus, ""});
    if (it == got.end()) return std::nullopt;
    return std::get<CpuSet>(it->second.first);
  }
  std::optional<int64_t> quota(const std::string& cgroup) const {
    auto it = got.find(KnobRef{cgroup, Knob::cpu_quota, ""});
    if (it == got.end()) return std::nullopt;
    return std::get<int64_t>(it->second.first);
  }
};

struct Host {
  agent::HostInfo info;
  explicit Host(const std::string& state_dir, const std::string& cpu_manager_state = "") {
    auto t = model::Topology::read(test::fixture("sysfs/nri-desktop-20cpu"));
    REQUIRE(t.ok());
    info.topology = t.value;
    info.state_dir = state_dir;
    info.kubelet_cpu_manager_state = cpu_manager_state;
    cg::KubeletLayout l;
    l.driver = cg::Driver::cgroupfs;
    l.kubepods = "kubepods";
    info.layout = l;
  }
};

agent::PodState pod(const std::string& name, model::QosClass q, int64_t cpu_millis, cg::QosTier tier,
                    const std::string& uid = "") {
  agent::PodState ps;
  ps.pod.name = name;
  ps.pod.namespace_ = "ns";
  ps.pod.uid = uid.empty() ? "uid-" + name : uid;
  ps.pod.phase = "Running";
  ps.pod.qos = q;
  ps.tier = tier;
  const std::string tier_dir = tier == cg::QosTier::guaranteed ? "kubepods"
                               : tier == cg::QosTier::burstable ? "kubepods/burstable"
                                                                 : "kubepods/besteffort";
  ps.cgroup = tier_dir + "/pod" + ps.pod.uid;
  agent::ContainerState c;
  c.spec.name = "app";
  c.spec.requests.cpu_millis = cpu_millis;
  ps.pod.containers.push_back(c.spec);
  c.cgroup = ps.cgroup + "/c-" + name;
  ps.containers.push_back(c);
  return ps;
}

agent::Snapshot snapshot(const Host& h, std::vector<agent::PodState> pods, uint64_t tick = 1) {
  agent::Snapshot s;
  s.tick = tick;
  s.now = std::chrono::steady_clock::time_point{} + std::chrono::seconds(tick);
  s.host = &h.info;
  s.pods = std::move(pods);
  return s;
}

}  // namespace

TEST_CASE("controller pins LSE/LSR pods, pools the rest, unsets quota and fills the blackboard", "[controller]") {
  test::TempDir tmp;
  Host h(tmp.path());
  cpuset::CpusetController c;
  REQUIRE(c.probe(h.info).supported);
  prometheus::Registry reg;
  agent::ControllerContext ctx{h.info, reg};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  auto lse = pod("lse", model::QosClass::LSE, 4000, cg::QosTier::guaranteed);
  auto ls = pod("ls", model::QosClass::LS, 500, cg::QosTier::burstable);
  auto be = pod("be", model::QosClass::BE, 0, cg::QosTier::besteffort);
  auto snap = snapshot(h, {lse, ls, be});
  agent::Blackboard board;
  Sink sink;
  c.decide(snap, board, sink);

  const CpuSet pin = *CpuSet::parse("0-1,10-11");
  CHECK(sink.cpus(lse.cgroup) == pin);
  CHECK(sink.cpus(lse.containers[0].cgroup) == pin);
  CHECK(sink.quota(lse.cgroup) == -1);
  CHECK(sink.quota(lse.containers[0].cgroup) == -1);
  CHECK(board.pinned_cgroups.count(lse.cgroup));
  CHECK(board.pinned_cgroups.count(lse.containers[0].cgroup));
  const CpuSet rest = CpuSet::range(0, 19) - pin;
  CHECK(sink.cpus(ls.containers[0].cgroup) == rest);
  CHECK(sink.cpus(be.containers[0].cgroup) == rest);
  CHECK_FALSE(sink.quota(ls.containers[0].cgroup));
  CHECK_FALSE(board.pinned_cgroups.count(ls.cgroup));
  // Tiers hold the union of their pods (v1 needs parents ⊇ children).
  CHECK(sink.cpus("kubepods") == CpuSet::range(0, 19));
  CHECK(sink.cpus("kubepods/burstable") == rest);
  CHECK(sink.cpus("kubepods/besteffort") == rest);
  CHECK(sink.got.at(KnobRef{lse.cgroup, Knob::cpuset_cpus, ""}).second.find("LSE pinned") != std::string::npos);
  CHECK(c.explain("ns/lse").size() == 1);
  CHECK(c.status()["pools"]["lse"] == "0-1,10-11");
  CHECK(reg.Collect().size() >= 3);
}

TEST_CASE("pins survive a restart through the checkpoint, and a pod leaving frees its CPUs", "[controller]") {
  test::TempDir tmp;
  Host h(tmp.path());
  auto a = pod("a", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  auto b = pod("b", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  CpuSet pin_b;
  {
    cpuset::CpusetController c;
    REQUIRE_FALSE(c.configure(nlohmann::json::object()));
    agent::Blackboard board;
    Sink sink;
    c.decide(snapshot(h, {a, b}), board, sink);
    pin_b = *sink.cpus(b.cgroup);
    CHECK(pin_b == CpuSet::of({1, 11}));
    CHECK(std::filesystem::exists(tmp.sub("cpuset-pins.json")));
  }
  // New agent process: `a` is gone, a new pod "0" (sorting first) arrives. b keeps its CPUs.
  cpuset::CpusetController c2;
  REQUIRE_FALSE(c2.configure(nlohmann::json::object()));
  auto zero = pod("0", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  agent::Blackboard board;
  Sink sink;
  c2.decide(snapshot(h, {zero, b}), board, sink);
  CHECK(sink.cpus(b.cgroup) == pin_b);
  CHECK(sink.cpus(zero.cgroup) == CpuSet::of({0, 10}));
  // b leaves: its CPUs return to the share pool.
  auto ls = pod("ls", model::QosClass::LS, 100, cg::QosTier::burstable);
  Sink sink2;
  agent::Blackboard board2;
  c2.decide(snapshot(h, {zero, ls}, 2), board2, sink2);
  CHECK(pin_b.is_subset_of(*sink2.cpus(ls.cgroup)));
  CHECK_FALSE(sink2.cpus(b.cgroup));
  // A pod recreated under the same name (new UID) is not given the old pin blindly (it is re-planned).
  auto b2 = pod("b", model::QosClass::LSR, 2000, cg::QosTier::burstable, "uid-b-new");
  Sink sink3;
  agent::Blackboard board3;
  c2.decide(snapshot(h, {zero, b2}, 3), board3, sink3);
  CHECK(sink3.cpus(b2.cgroup) == CpuSet::of({1, 11}));
}

TEST_CASE("a corrupt checkpoint is moved aside and pins are rebuilt", "[controller]") {
  test::TempDir tmp;
  tmp.write("cpuset-pins.json", "{\"version\":1,\"pins\":{},\"checksum\":\"bogus\"}");
  Host h(tmp.path());
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  agent::Blackboard board;
  Sink sink;
  c.decide(snapshot(h, {pod("a", model::QosClass::LSE, 2000, cg::QosTier::guaranteed)}), board, sink);
  CHECK(std::filesystem::exists(tmp.sub("cpuset-pins.json.corrupt")));
  CHECK(sink.cpus("kubepods/poduid-a") == CpuSet::of({0, 10}));
  auto stored = cpuset::PinStore::decode(tmp.read("cpuset-pins.json"));
  REQUIRE(stored);
  CHECK(stored->at("ns/a").pin.cpus == CpuSet::of({0, 10}));
}

TEST_CASE("kubelet's pinned containers are never rewritten", "[controller]") {
  test::TempDir tmp;
  tmp.write("cpu_manager_state",
            R"({"policyName":"static","defaultCpuSet":"0,3-19","entries":{"uid-g":{"app":"1-2"}},"checksum":12})");
  Host h(tmp.path(), tmp.sub("cpu_manager_state"));
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  auto g = pod("g", model::QosClass::LSR, 2000, cg::QosTier::guaranteed);
  auto ls = pod("ls", model::QosClass::LS, 100, cg::QosTier::burstable);
  agent::Blackboard board;
  Sink sink;
  c.decide(snapshot(h, {g, ls}), board, sink);
  CHECK_FALSE(sink.cpus(g.cgroup));
  CHECK_FALSE(sink.cpus(g.containers[0].cgroup));
  CHECK_FALSE(sink.quota(g.cgroup));
  CHECK((*sink.cpus(ls.cgroup) & CpuSet::of({1, 2})).empty());
  CHECK(c.status()["kubeletCpuManager"]["pinnedCpus"] == "1-2");
  CHECK(c.explain("ns/g")[0]["decision"].get<std::string>().find("kubelet") != std::string::npos);
  // kubelet releases the pod: the next tick sees the new checkpoint.
  tmp.write("cpu_manager_state", R"({"policyName":"static","defaultCpuSet":"0-19","entries":{},"checksum":13})");
  std::filesystem::last_write_time(tmp.sub("cpu_manager_state"),
                                   std::filesystem::last_write_time(tmp.sub("cpu_manager_state")) + std::chrono::seconds(5));
  Sink sink2;
  agent::Blackboard board2;
  c.decide(snapshot(h, {g, ls}, 2), board2, sink2);
  CHECK(sink2.cpus(g.cgroup));
}

TEST_CASE("BE budget from the blackboard narrows the BE pool; quota knob is configurable", "[controller]") {
  test::TempDir tmp;
  Host h(tmp.path());
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json{{"cpusetStrategy", {{"unsetQuotaForPinned", false}, {"reservedCpus", "0,10"}}}}));
  auto be = pod("be", model::QosClass::BE, 0, cg::QosTier::besteffort);
  auto lsr = pod("lsr", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  agent::Blackboard board;
  board.be_cpu_budget_cores = 4;
  Sink sink;
  c.decide(snapshot(h, {be, lsr}), board, sink);
  CHECK(sink.cpus(be.cgroup)->size() == 4);
  CHECK_FALSE(sink.quota(lsr.cgroup));
  CHECK_FALSE(sink.cpus(be.cgroup)->contains(0));
  CHECK(sink.cpus(lsr.cgroup) == CpuSet::of({1, 11}));
  CHECK(sink.cpus("kubepods/besteffort") == sink.cpus(be.cgroup));
}

TEST_CASE("configuration errors name the field and keep the previous policy", "[controller]") {
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json{{"cpusetStrategy", {{"reservedCpus", "2-3"}, {"cpuBindPolicy", "SpreadByPCPUs"}}}}));
  CHECK(c.config().reserved == CpuSet::of({2, 3}));
  auto e1 = c.configure(nlohmann::json{{"cpusetStrategy", {{"reservedCpus", "3-1"}}}});
  REQUIRE(e1);
  CHECK(e1->find("cpusetStrategy.reservedCpus") == 0);
  auto e2 = c.configure(nlohmann::json{{"cpusetStrategy", {{"cpuBindPolicy", "Tight"}}}});
  REQUIRE(e2);
  CHECK(e2->find("cpusetStrategy.cpuBindPolicy") == 0);
  auto e3 = c.configure(nlohmann::json{{"cpusetStrategy", {{"beMinCpus", 0}}}});
  REQUIRE(e3);
  CHECK(e3->find("cpusetStrategy.beMinCpus") == 0);
  auto e4 = c.configure(nlohmann::json{{"cpusetStrategy", {{"typo", 1}}}});
  REQUIRE(e4);
  CHECK(e4->find("unknown field") != std::string::npos);
  CHECK(c.config().reserved == CpuSet::of({2, 3}));
  CHECK(c.config().bind_policy == cpuset::BindPolicy::SpreadByPCPUs);
  REQUIRE_FALSE(c.configure(nlohmann::json{{"cpusetStrategy", {{"periodSeconds", 2.5}}}}));
  CHECK(c.period() == std::chrono::milliseconds(2500));
}
