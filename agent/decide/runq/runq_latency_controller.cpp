#include "agent/decide/runq/runq_latency_controller.h"

#include <filesystem>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "agent/runtime/log.h"
#include "bpf/cgroup_id.h"
#include "cgroups/status.h"

namespace slo::agent::runq {
namespace {
constexpr std::string_view kComponent = "runq";
constexpr const char* kPolicyKey = "runqLatencyStrategy";
// A tracked cgroup whose interval had waits is the live one (a recreated directory has a new kernfs id, which the
// probe does not count for), so only pods without waits need a stat() of their directory to notice a recreated
// cgroup, and at most this often (the controller's default period: then every decide checks, as before).
constexpr auto kIdleIdRecheck = std::chrono::seconds(5);
}  // namespace

RunqLatencyController::RunqLatencyController(RunqOptions options) : options_(options) {}
RunqLatencyController::~RunqLatencyController() = default;

std::string RunqLatencyController::source_name() const {
  switch (source_) {
    case Source::bpf:
      return probe_->attach_kind() == bpf::AttachKind::tp_btf ? "bpf_tp_btf" : "bpf_raw_tp";
    case Source::schedstat:
      return "schedstat";
    case Source::none:
      break;
  }
  return "none";
}

Capability RunqLatencyController::probe(const HostInfo& host) {
  cgroup_root_ = host.cgroup_root;
  proc_root_ = host.proc_root.empty() ? "/proc" : host.proc_root;
  mode_ = host.mode;
  std::string bpf_error = "disabled by options";
  if (options_.allow_bpf) {
    bpf::SchedProbeOptions o;
    o.hierarchy = mode_ == cg::Mode::v2 ? bpf::Hierarchy::v2 : bpf::Hierarchy::v1_cpu;
    o.first = options_.first;
    probe_ = bpf::SchedProbe::open(o, &bpf_error);
  }
  if (probe_) {
    source_ = Source::bpf;
    std::string timing = probe_->uses_sched_info()     ? "scheduler queue stamp"
                         : probe_->uses_task_storage() ? "own timestamps in task storage"
                                                       : "own timestamps in a hash map";
    reason_ = "bpf (" + std::string(bpf::to_string(probe_->attach_kind())) + ", " + timing +
              "): every run-queue wait per pod, and CFS throttle events";
    if (!probe_->tp_btf_failure().empty()) reason_ += "; tp_btf unavailable: " + probe_->tp_btf_failure();
    return {true, reason_};
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(proc_root_, ec)) {
    source_ = Source::none;
    reason_ = "BPF unavailable (" + bpf_error + ") and no proc tree at " + proc_root_;
    return {false, reason_};
  }
  source_ = Source::schedstat;
  sampler_ = std::make_unique<SchedstatSampler>(proc_root_);
  reason_ = "schedstat fallback (BPF unavailable: " + bpf_error +
            "): per-task mean run-queue wait per interval, no per-wait distribution (p99 underestimates "
            "short spikes); no throttle events";
  return {true, reason_};
}

void RunqLatencyController::init(ControllerContext& ctx) {
  metrics_ = std::make_unique<RunqMetrics>(ctx.metrics);
  metrics_->set_source(source_name());
}

std::optional<std::string> RunqLatencyController::configure(const nlohmann::json& policy) {
  if (!policy.is_object() || !policy.contains(kPolicyKey)) {
    enabled_ = true;
    return std::nullopt;
  }
  const auto& p = policy[kPolicyKey];
  const std::string prefix = std::string(kPolicyKey) + ".";
  if (!p.is_object()) return std::string(kPolicyKey) + ": must be a map";
  bool enable = true;
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (it.key() == "enable") {
      if (!it->is_boolean()) return prefix + "enable: must be true or false";
      enable = it->get<bool>();
    } else {
      return prefix + it.key() + ": unknown field (expected enable)";
    }
  }
  enabled_ = enable;
  return std::nullopt;
}

std::string RunqLatencyController::cgroup_dir(const std::string& rel) const {
  // v1 and hybrid: pods live in the cpu controller's hierarchy; v2: in the unified tree.
  if (mode_ == cg::Mode::v2) return cgroup_root_ + "/" + rel;
  return cgroup_root_ + "/cpu/" + rel;
}

void RunqLatencyController::drop(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  if (probe_ && it->second.cgroup_id) probe_->untrack(it->second.cgroup_id);
  if (sampler_) sampler_->forget(key);
  if (metrics_ && it->second.series) metrics_->remove_pod(it->second.labels);
  pods_.erase(it);
}

RunqMetrics::Series& RunqLatencyController::series_of(PodTrack& t) {
  if (!t.series) t.series = &metrics_->series(t.labels);
  return *t.series;
}

int RunqLatencyController::throttle_epoll_fd() const { return probe_ ? probe_->throttle_epoll_fd() : -1; }

void RunqLatencyController::on_tick(const Snapshot& /*snap*/, Blackboard& board) {
  if (!probe_) return;
  drain_throttles();
  board.throttle_events.watched = &watched_;
  board.throttle_events.pod_cgroups.swap(throttled_pending_);
  throttled_pending_.clear();
}

void RunqLatencyController::drain_throttles() {
  if (!probe_) return;
  std::map<uint64_t, uint64_t> per_id;
  probe_->drain_throttle_events([&](const bpf::ThrottleEvent& e) { per_id[e.tracked_id]++; });
  if (per_id.empty()) return;
  for (auto& [key, t] : pods_) {
    auto it = per_id.find(t.cgroup_id);
    if (it == per_id.end()) continue;
    t.throttle_events += it->second;
    t.throttled_this_interval = true;
    throttled_pending_.insert(t.cgroup.str());
    if (metrics_) metrics_->count_throttle_events(series_of(t), it->second);
  }
}

std::optional<bpf::RunqHistogram> RunqLatencyController::interval_histogram(const std::string& key, PodTrack& t,
                                                                            std::chrono::steady_clock::time_point now,
                                                                            const bpf::RunqHistogram* cumulative) {
  if (source_ == Source::schedstat) return sampler_->sample(key, t.dir);
  bpf::RunqHistogram delta;
  if (t.cgroup_id && cumulative) {
    delta = cumulative->since(t.last);
    t.last = *cumulative;
    if (delta.count() > 0 || now - t.id_checked < kIdleIdRecheck) return delta;
  }
  int err = 0;
  auto id = bpf::cgroup_id_of(t.dir, &err);
  if (!id) return std::nullopt;  // gone (or not yet created): nothing to measure
  t.id_checked = now;
  if (t.cgroup_id == *id) return delta;
  // New pod, or its cgroup was recreated (new inode): start a fresh histogram.
  if (t.cgroup_id) probe_->untrack(t.cgroup_id);
  t.cgroup_id = 0;
  std::string error;
  if (!probe_->track(*id, &error)) {
    log::once(log::Level::warn, kComponent, "track:" + key, "cannot track pod " + key + ": " + error);
    return std::nullopt;
  }
  t.cgroup_id = *id;
  t.last = bpf::RunqHistogram{};
  bpf::RunqHistogram fresh;
  if (!probe_->read(t.cgroup_id, fresh)) return std::nullopt;
  delta = fresh.since(t.last);
  t.last = fresh;
  return delta;
}

void RunqLatencyController::decide(const Snapshot& snap, Blackboard& board, IntentSink& /*out*/) {
  if (source_ == Source::none) return;
  if (!enabled_) {
    while (!pods_.empty()) drop(pods_.begin()->first);
    return;
  }
  const uint64_t gen = ++generation_;
  by_index_.resize(snap.pods.size());
  for (size_t i = 0; i < snap.pods.size(); ++i) {
    const PodState& ps = snap.pods[i];
    if (ps.cgroup.empty() || ps.pod.terminal()) {
      by_index_[i] = {};
      continue;
    }
    key_.assign(ps.pod.namespace_).append(1, '/').append(ps.pod.name);
    // Pods mostly keep their place in the snapshot: one compare with last tick's entry instead of a map search.
    auto& [known_key, known] = by_index_[i];
    if (!known_key || *known_key != key_) {
      auto it = pods_.find(key_);
      if (it == pods_.end()) it = pods_.emplace(key_, PodTrack{}).first;
      known_key = &it->first;
      known = &it->second;
    }
    PodTrack& t = *known;
    t.seen = gen;
    const std::string_view qos = model::to_string(ps.pod.qos);
    if (t.labels.pod.empty() || t.labels.namespace_ != ps.pod.namespace_ || t.labels.pod != ps.pod.name ||
        t.labels.qos != qos) {
      // A new pod, or its QoS class changed: series under the old labels go (new ones appear with the next sample).
      if (t.series) metrics_->remove_pod(t.labels);
      t.series = nullptr;
      t.labels = PodLabels{ps.pod.namespace_, ps.pod.name, std::string(qos)};
    }
    if (t.cgroup != ps.cgroup || t.dir.empty()) {
      t.cgroup = ps.cgroup;
      t.dir = cgroup_dir(t.cgroup);
    }
  }
  for (auto it = pods_.begin(); it != pods_.end();) {
    auto next = std::next(it);
    if (it->second.seen != gen) drop(it->first);
    it = next;
  }

  drain_throttles();
  // Every tracked pod's histogram in one batched read (pods_ does not change until the loop below).
  read_ids_.clear();
  if (probe_)
    for (const auto& [key, t] : pods_)
      if (t.cgroup_id) read_ids_.push_back(t.cgroup_id);
  if (!read_ids_.empty()) probe_->read_many(read_ids_, read_hists_, read_ok_);
  size_t next_read = 0;
  for (auto& [key, t] : pods_) {
    const bpf::RunqHistogram* cumulative = nullptr;
    if (probe_ && t.cgroup_id) {
      if (read_ok_[next_read]) cumulative = &read_hists_[next_read];
      next_read++;
    }
    auto h = interval_histogram(key, t, snap.now, cumulative);
    t.interval_samples = h ? h->count() : 0;
    t.p99.reset();
    if (h && h->count() > 0) {
      t.p99 = h->quantile_seconds(0.99);
      board.runq_p99_seconds[key] = *t.p99;
      if (metrics_) {
        RunqMetrics::Series& series = series_of(t);
        metrics_->observe(series, *h);
        metrics_->set_p99(series, *t.p99);
      }
    }
    if (t.throttled_this_interval) board.hot_cgroups.insert(t.cgroup);
    t.throttled_this_interval = false;
  }
  watched_.clear();
  for (const auto& [key, t] : pods_)
    if (t.cgroup_id) watched_.insert(t.cgroup.str());
  if (probe_ && metrics_) {
    auto c = probe_->counters();
    metrics_->set_lost("inflight_full", c.inflight_full);
    metrics_->set_lost("throttle_ring_full", c.throttle_lost);
  }
}

nlohmann::json RunqLatencyController::status() const {
  nlohmann::json pods = nlohmann::json::object();
  for (const auto& [key, t] : pods_) {
    nlohmann::json p = {{"cgroup", t.cgroup}, {"interval_samples", t.interval_samples}};
    p["p99_seconds"] = t.p99 ? nlohmann::json(*t.p99) : nlohmann::json(nullptr);
    if (source_ == Source::bpf) {
      p["cgroup_id"] = t.cgroup_id;
      p["throttle_events"] = t.throttle_events;
    }
    pods[key] = std::move(p);
  }
  nlohmann::json s = {{"source", source_name()}, {"reason", reason_}, {"enabled", enabled_}, {"pods", pods}};
  if (probe_) {
    auto c = probe_->counters();
    s["bpf"] = {{"attach", std::string(bpf::to_string(probe_->attach_kind()))},
                {"queue_stamp", probe_->uses_sched_info()},
                {"tracked_cgroups", probe_->tracked_count()},
                {"samples", c.samples},
                {"inflight_full", c.inflight_full},
                {"throttle_lost", c.throttle_lost}};
  }
  return s;
}

nlohmann::json RunqLatencyController::explain(const std::string& pod_key) const {
  nlohmann::json out = nlohmann::json::array();
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return out;
  const PodTrack& t = it->second;
  std::string what = t.p99 ? "run-queue p99 " + std::to_string(*t.p99 * 1e3) + " ms over " +
                                 std::to_string(t.interval_samples) + " waits"
                           : std::string("no run-queue waits measured in the last interval");
  out.push_back({{"controller", "RunqLatency"}, {"source", source_name()}, {"observation", what},
                 {"published", t.p99.has_value()}});
  return out;
}

}  // namespace slo::agent::runq
