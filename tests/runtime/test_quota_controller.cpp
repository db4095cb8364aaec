// A controller for runtime tests only: holds cpu quota (and burst) on pod and container cgroups from its policy
// block, so the runtime can be exercised without depending on the real controllers' algorithms.
//   testQuota: {quotaUs: N, burstUs: M, claim: all|even|odd|none|limited, periodMs: P (default 100)}
// Containers get N, pods get N × containers (a pod quota below its containers' is EINVAL on v1), burst min(M, N).
// limited: like the CPU burst controller, claim a container's quota only when its original value (as the KnobView
// tells it; N when unknown) is a limit, i.e. the decision depends on what the executor reports about the knob.
#include "agent/runtime/controller.h"

namespace slo::test {

class TestQuota final : public agent::Controller {
 public:
  std::string_view name() const override { return "TestQuota"; }
  agent::Capability probe(const agent::HostInfo&) override { return {}; }
  std::optional<std::string> configure(const nlohmann::json& policy) override {
    if (!policy.contains("testQuota")) {
      quota_ = -1;
      claim_ = "none";
      return std::nullopt;
    }
    const auto& b = policy["testQuota"];
    if (!b.is_object()) return "testQuota: must be a map";
    if (b.contains("quotaUs") && (!b["quotaUs"].is_number_integer() || b["quotaUs"].get<int64_t>() < 1000))
      return "testQuota.quotaUs: must be an integer >= 1000";
    std::string claim = b.value("claim", "all");
    if (claim != "all" && claim != "even" && claim != "odd" && claim != "none" && claim != "limited")
      return "testQuota.claim: must be all, even, odd, none or limited";
    if (b.contains("periodMs") && (!b["periodMs"].is_number_integer() || b["periodMs"].get<int64_t>() < 1))
      return "testQuota.periodMs: must be an integer >= 1";
    period_ = std::chrono::milliseconds(b.value("periodMs", 100));
    quota_ = b.value("quotaUs", 50000);
    burst_ = b.value("burstUs", 0);
    claim_ = claim;
    return std::nullopt;
  }
  std::chrono::milliseconds period() const override { return period_; }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override {
    if (claim_ == "none") return;
    size_t i = 0;
    for (const auto& p : snap.pods) {
      bool mine = claim_ == "all" || claim_ == "limited" || (claim_ == "even" && i % 2 == 0) ||
                  (claim_ == "odd" && i % 2 == 1);
      ++i;
      if (!mine || p.cgroup.empty()) continue;
      int64_t n = 0;
      for (const auto& c : p.containers) {
        if (c.cgroup.empty()) continue;
        if (claim_ == "limited") {
          auto orig = snap.knobs ? snap.knobs->original({c.cgroup, cg::Knob::cpu_quota, ""}) : std::nullopt;
          if ((orig ? cg::as_int(*orig) : quota_) <= 0) continue;  // unlimited in the kernel: nothing to hold
        }
        ++n;
        out.set({c.cgroup, cg::Knob::cpu_quota, ""}, quota_, "test quota");
        if (burst_ > 0) out.set({c.cgroup, cg::Knob::cpu_burst, ""}, std::min(burst_, quota_), "test burst");
        board.hot_cgroups.insert(c.cgroup);
      }
      if (n) out.set({p.cgroup, cg::Knob::cpu_quota, ""}, quota_ * n, "test pod quota");
    }
  }

 private:
  int64_t quota_ = -1, burst_ = 0;
  std::string claim_ = "none";
  std::chrono::milliseconds period_{100};
};

SLO_REGISTER_CONTROLLER(TestQuota, 1000);

}  // namespace slo::test
