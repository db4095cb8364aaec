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
  void set(const KnobRef& ref, const cg::KnobValue& v, const std::string& reason) override { got[ref] = {std::move(v), std::move(reason)}; }
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
  slo::agent::MetricsRegistry reg;
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

// The controller replans only when its input changes (plan cache): every change of input must still show at once,
// and an unchanged node must get exactly the intents of a fresh controller.
TEST_CASE("an unchanged node gets the same intents every tick; each input change replans at once", "[controller]") {
  test::TempDir tmp;
  Host h(tmp.path());
  cpuset::CpusetController c;
  REQUIRE_FALSE(c.configure(nlohmann::json::object()));
  auto lsr = pod("lsr", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  auto ls = pod("ls", model::QosClass::LS, 500, cg::QosTier::burstable);
  auto be = pod("be", model::QosClass::BE, 0, cg::QosTier::besteffort);
  auto tick = [&](std::vector<agent::PodState> pods, uint64_t n, std::optional<double> budget = std::nullopt) {
    agent::Blackboard board;
    board.be_cpu_budget_cores = budget;
    Sink sink;
    c.decide(snapshot(h, std::move(pods), n), board, sink);
    return std::make_pair(sink.got, board.pinned_cgroups);
  };
  const auto first = tick({lsr, ls, be}, 1);
  for (uint64_t n = 2; n < 5; ++n) {
    auto again = tick({lsr, ls, be}, n);
    CHECK(again.first == first.first);  // knobs, values and reasons
    CHECK(again.second == first.second);
  }
  // A fresh controller (same checkpoint) on the same node decides the same.
  {
    cpuset::CpusetController fresh;
    REQUIRE_FALSE(fresh.configure(nlohmann::json::object()));
    agent::Blackboard board;
    Sink sink;
    fresh.decide(snapshot(h, {lsr, ls, be}, 9), board, sink);
    CHECK(sink.got == first.first);
  }
  const CpuSet pin = *CpuSet::parse("0,10");
  REQUIRE(first.first.at(KnobRef{lsr.cgroup, Knob::cpuset_cpus, ""}).first == cg::KnobValue{pin});

  // Budget: only the BE pool (and its reason) changes; the pin stays.
  auto budget = tick({lsr, ls, be}, 5, 2.0);
  CHECK(std::get<CpuSet>(budget.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}).first).size() == 2);
  CHECK(budget.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}).second.find("budget 2.0") != std::string::npos);
  CHECK(std::get<CpuSet>(budget.first.at(KnobRef{lsr.cgroup, Knob::cpuset_cpus, ""}).first) == pin);
  // Budget held for a few seconds, then dropped: the whole BE pool again.
  auto held = tick({lsr, ls, be}, 6);
  CHECK(std::get<CpuSet>(held.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}).first).size() == 2);
  auto dropped = tick({lsr, ls, be}, 20);
  CHECK(dropped.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}) ==
        first.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}));

  // A new pinned pod takes CPUs out of the share pool at once.
  auto lsr2 = pod("lsr2", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  auto more = tick({lsr, ls, be, lsr2}, 21);
  const CpuSet pin2 = std::get<CpuSet>(more.first.at(KnobRef{lsr2.cgroup, Knob::cpuset_cpus, ""}).first);
  CHECK(pin2.size() == 2);
  CHECK((std::get<CpuSet>(more.first.at(KnobRef{ls.cgroup, Knob::cpuset_cpus, ""}).first) & pin2).empty());
  CHECK(more.second.count(lsr2.cgroup));
  // A pod's request changes (same name and UID): its pin is re-planned.
  auto lsr2_big = pod("lsr2", model::QosClass::LSR, 4000, cg::QosTier::burstable);
  auto resized = tick({lsr, ls, be, lsr2_big}, 22);
  CHECK(std::get<CpuSet>(resized.first.at(KnobRef{lsr2.cgroup, Knob::cpuset_cpus, ""}).first).size() == 4);
  // A resource-spec annotation changes the bind policy of a pod that is re-planned.
  auto lsr3 = pod("lsr3", model::QosClass::LSR, 2000, cg::QosTier::burstable);
  lsr3.pod.annotations[std::string(cpuset::kResourceSpecAnnotation)] = R"({"preferredCPUBindPolicy":"SpreadByPCPUs"})";
  auto spread = tick({lsr, ls, be, lsr2_big, lsr3}, 23);
  const CpuSet pin3 = std::get<CpuSet>(spread.first.at(KnobRef{lsr3.cgroup, Knob::cpuset_cpus, ""}).first);
  CHECK(pin3.size() == 2);
  CHECK(h.info.topology.cpu(pin3.ids()[0])->core_key != h.info.topology.cpu(pin3.ids()[1])->core_key);
  // Config: reserved CPUs leave every pool at once.
  REQUIRE_FALSE(c.configure(nlohmann::json{{"cpusetStrategy", {{"reservedCpus", "19"}}}}));
  auto reserved = tick({lsr, ls, be, lsr2_big, lsr3}, 24);
  CHECK_FALSE(std::get<CpuSet>(reserved.first.at(KnobRef{ls.cgroup, Knob::cpuset_cpus, ""}).first).contains(19));
  CHECK_FALSE(std::get<CpuSet>(reserved.first.at(KnobRef{be.cgroup, Knob::cpuset_cpus, ""}).first).contains(19));
  // A pod leaving frees its CPUs; explain() follows the last tick's pods.
  auto left = tick({lsr, ls, be}, 25);
  CHECK(pin2.is_subset_of(std::get<CpuSet>(left.first.at(KnobRef{ls.cgroup, Knob::cpuset_cpus, ""}).first)));
  CHECK(c.explain("ns/lsr2").empty());
  REQUIRE(c.explain("ns/ls").size() == 1);
  CHECK(c.explain("ns/ls")[0]["decision"].get<std::string>().find("LS share pool → ") == 0);
  CHECK(c.explain("ns/lsr")[0]["decision"].get<std::string>().find("LSR pinned (") == 0);
}
