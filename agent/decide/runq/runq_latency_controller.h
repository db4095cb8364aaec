// RunqLatencyController (order 15): measures how long each pod's threads wait in CPU run queues and publishes the
// per-pod p99 of the last interval to Blackboard::runq_p99_seconds (read by the colocation controller as the
// interference signal), plus Prometheus histograms. It never writes a cgroup knob.
//
// Sources, chosen once in probe():
//  - BPF (bpf/sched_probe.bpf.c): every wait, attributed by the pod cgroup's kernfs id in the v1 cpu hierarchy
//    (v1/hybrid) or the unified tree (v2); also CFS throttle events, which mark the pod's cgroup hot for the
//    observer (Blackboard::hot_cgroups) and are counted. throttle_epoll_fd() lets the runtime wake at once.
//  - schedstat fallback (no BTF, no privilege, -Dbpf=disabled): per-task mean wait per interval (reduced accuracy,
//    see schedstat_sampler.h). status()/probe() say which one is active.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/decide/runq/runq_metrics.h"
#include "agent/decide/runq/schedstat_sampler.h"
#include "agent/runtime/controller.h"
#include "bpf/sched_probe.h"

namespace slo::agent::runq {

struct RunqOptions {
  bool allow_bpf = true;          // false: schedstat only (tests of the fallback, hosts where BPF is unwanted)
  bpf::AttachKind first = bpf::AttachKind::tp_btf;
  std::chrono::milliseconds period{5000};
};

class RunqLatencyController : public Controller {
 public:
  RunqLatencyController() : RunqLatencyController(RunqOptions{}) {}
  explicit RunqLatencyController(RunqOptions options);
  ~RunqLatencyController() override;

  std::string_view name() const override { return "RunqLatency"; }
  Capability probe(const HostInfo& host) override;
  void init(ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return options_.period; }
  // Drains the BPF throttle ring every tick (a memory read when it is empty) into Blackboard::throttle_events.
  void on_tick(const Snapshot& snap, Blackboard& board) override;
  void decide(const Snapshot& snap, Blackboard& board, IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  enum class Source { none, bpf, schedstat };
  Source source() const { return source_; }
  // "bpf_tp_btf", "bpf_raw_tp", "schedstat" or "none".
  std::string source_name() const;
  // Readable when throttle events are pending (BPF source only; -1 otherwise). The runtime may watch it to run
  // the CPU burst controller at once; decide() drains it.
  int throttle_epoll_fd() const;

 private:
  struct PodTrack {
    PodLabels labels;
    RunqMetrics::Series* series = nullptr;  // of `labels`, fetched at the pod's first sample (series_of)
    cg::CgroupPath cgroup;    // relative pod cgroup (for hot_cgroups)
    std::string dir;          // cgroup_dir(cgroup), kept so a tick builds no path
    uint64_t cgroup_id = 0;   // BPF: tracked kernfs id
    std::chrono::steady_clock::time_point id_checked{};  // BPF: when cgroup_id was last compared with the directory
    bpf::RunqHistogram last;  // BPF: cumulative histogram at the previous interval
    std::optional<double> p99;
    uint64_t interval_samples = 0;
    uint64_t throttle_events = 0;  // cumulative
    bool throttled_this_interval = false;
    uint64_t seen = 0;  // decide() generation that last saw the pod
  };

  std::string cgroup_dir(const std::string& rel) const;
  void drop(const std::string& key);
  RunqMetrics::Series& series_of(PodTrack& t);  // metrics_ must be set
  void drain_throttles();
  // `cumulative`: BPF only, the tracked id's histogram read this tick (nullptr: not tracked or the read failed).
  std::optional<bpf::RunqHistogram> interval_histogram(const std::string& key, PodTrack& t,
                                                       std::chrono::steady_clock::time_point now,
                                                       const bpf::RunqHistogram* cumulative);

  RunqOptions options_;
  bool enabled_ = true;
  Source source_ = Source::none;
  std::string reason_;
  std::string cgroup_root_, proc_root_;
  cg::Mode mode_ = cg::Mode::v1;
  std::unique_ptr<bpf::SchedProbe> probe_;
  std::unique_ptr<SchedstatSampler> sampler_;
  std::unique_ptr<RunqMetrics> metrics_;
  std::map<std::string, PodTrack> pods_;  // pod key → state
  // Pod cgroups tracked by the probe (rebuilt after each decide) and those with throttle events not yet handed to
  // the board (drained in decide() as well as in on_tick()).
  std::set<std::string, std::less<>> watched_, throttled_pending_;
  uint64_t generation_ = 0;               // decide() calls
  std::string key_;                       // scratch for a pod's key
  // Snapshot index → its entry of pods_ at the last decide (entries written each decide point to pods seen in it,
  // which that decide does not drop; skipped indexes are cleared).
  std::vector<std::pair<const std::string*, PodTrack*>> by_index_;
  // Scratch of the batched histogram read (one SchedProbe::read_many per decide instead of a syscall per pod).
  std::vector<uint64_t> read_ids_;
  std::vector<bpf::RunqHistogram> read_hists_;
  std::vector<char> read_ok_;
};

}  // namespace slo::agent::runq
