#include "agent/decide/colocation/reclaim_estimator.h"

#include <algorithm>
#include <cmath>

namespace slo::colocation {

std::optional<ReclaimPolicy> reclaim_policy_from_string(const std::string& s) {
  if (s == "usage") return ReclaimPolicy::usage;
  if (s == "request") return ReclaimPolicy::request;
  if (s == "maxUsageRequest") return ReclaimPolicy::maxUsageRequest;
  return std::nullopt;
}

void ReclaimEstimator::observe(const std::vector<PodSample>& hp_pods, double now_s) {
  // Updated in place (a rebuilt map would copy two histograms per pod per observation); pods not seen are dropped.
  for (auto& [key, h] : pods_) h.seen = false;
  for (const auto& p : hp_pods) {
    auto it = pods_.find(p.key);
    if (it == pods_.end()) {
      // Buckets ×1.1 (≤ 10 % over, never under): CPU from 5 millicores to ~900 cores, memory from 4 MiB to ~700 GiB.
      PodHistory h{now_s, DecayingHistogram(0.005, 1.1, s_.half_life),
                   DecayingHistogram(4.0 * 1024 * 1024, 1.1, s_.half_life), p};
      it = pods_.emplace(p.key, std::move(h)).first;
    } else if (it->second.seen) {
      continue;  // listed twice: the first sample counts
    }
    it->second.cpu.add(p.cpu_cores, now_s);
    it->second.mem.add(static_cast<double>(p.memory_bytes), now_s);
    it->second.last = p;
    it->second.seen = true;
  }
  std::erase_if(pods_, [](const auto& kv) { return !kv.second.seen; });
}

std::pair<double, int64_t> ReclaimEstimator::share(const PodHistory& h, double now_s) const {
  const PodSample& p = h.last;
  bool cold = now_s - h.first_seen_s < static_cast<double>(s_.cold_start.count());
  double cpu_usage = cold ? std::max(p.cpu_request_cores, p.cpu_cores) : h.cpu.percentile(s_.cpu_percentile) * s_.margin;
  double mem_usage = cold ? std::max(static_cast<double>(p.memory_request_bytes), static_cast<double>(p.memory_bytes))
                          : h.mem.percentile(s_.memory_percentile) * s_.margin;
  // Memory is not compressible: never count a pod below what it holds right now.
  mem_usage = std::max(mem_usage, static_cast<double>(p.memory_bytes));
  auto pick = [](ReclaimPolicy pol, double usage, double request) {
    switch (pol) {
      case ReclaimPolicy::usage: return usage;
      case ReclaimPolicy::request: return request;
      case ReclaimPolicy::maxUsageRequest: return std::max(usage, request);
    }
    return usage;
  };
  double cpu = pick(s_.cpu_policy, cpu_usage, p.cpu_request_cores);
  double mem = pick(s_.memory_policy, mem_usage, static_cast<double>(p.memory_request_bytes));
  return {cpu, static_cast<int64_t>(std::llround(mem))};
}

std::optional<std::pair<double, int64_t>> ReclaimEstimator::peak(const std::string& key, double now_s) const {
  auto it = pods_.find(key);
  if (it == pods_.end()) return std::nullopt;
  return share(it->second, now_s);
}

ReclaimResult ReclaimEstimator::compute(double capacity_cores, int64_t capacity_bytes, double system_cpu_cores,
                                        int64_t system_memory_bytes, double reserved_cores, int64_t reserved_bytes,
                                        double now_s, double metrics_at_s) const {
  ReclaimResult r;
  if (now_s - metrics_at_s > static_cast<double>(std::chrono::seconds(s_.degrade_after).count())) {
    r.degraded = true;
    return r;
  }
  for (const auto& [key, h] : pods_) {
    auto [cpu, mem] = share(h, now_s);
    r.hp_cpu_cores += cpu;
    r.hp_memory_bytes += mem;
  }
  double cpu = capacity_cores * s_.cpu_reclaim_threshold_percent / 100.0 - std::max(system_cpu_cores, reserved_cores) -
               r.hp_cpu_cores;
  double mem = static_cast<double>(capacity_bytes) * s_.memory_reclaim_threshold_percent / 100.0 -
               static_cast<double>(std::max(system_memory_bytes, reserved_bytes)) -
               static_cast<double>(r.hp_memory_bytes);
  r.batch_cpu_millis = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cpu * 1000.0)));
  r.batch_memory_bytes = std::max<int64_t>(0, static_cast<int64_t>(std::floor(mem)));
  return r;
}

}  // namespace slo::colocation
