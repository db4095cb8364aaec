#include "cgroups/ordered_writer.h"

#include <algorithm>
#include <cerrno>
#include <map>

namespace slo::cg {
namespace {

std::string norm(const std::string& cgroup) {
  size_t b = 0, e = cgroup.size();
  while (b < e && cgroup[b] == '/') ++b;
  while (e > b && cgroup[e - 1] == '/') --e;
  return cgroup.substr(b, e - b);
}

int depth_of(const std::string& cgroup) {
  std::string n = norm(cgroup);
  if (n.empty()) return 0;
  return 1 + static_cast<int>(std::count(n.begin(), n.end(), '/'));
}

// -1 (unlimited) is larger than any quota.
bool quota_greater(int64_t a, int64_t b) {
  if (a < 0) return b >= 0;
  if (b < 0) return false;
  return a > b;
}

struct Item {
  size_t idx = 0;  // position in the input batch
  KnobRef ref;
  KnobValue desired;
  int depth = 0;
  bool done = false;
};

}  // namespace

std::vector<WriteOutcome> OrderedWriter::apply(const std::vector<KnobWrite>& batch) const {
  std::vector<WriteOutcome> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) out[i].write = batch[i];

  // Dedupe: the last entry for a knob wins, as if the batch were applied in order.
  std::map<KnobRef, size_t> winner;
  for (size_t i = 0; i < batch.size(); ++i) {
    KnobRef r = batch[i].ref;
    r.cgroup = norm(r.cgroup);
    winner[r] = i;
  }
  std::vector<Item> items;
  for (const auto& [ref, i] : winner) items.push_back(Item{i, ref, batch[i].value, depth_of(ref.cgroup)});
  for (size_t i = 0; i < batch.size(); ++i) {
    KnobRef r = batch[i].ref;
    r.cgroup = norm(r.cgroup);
    if (winner[r] != i) out[i].status.detail = "superseded by a later entry for the same knob in this batch";
  }

  // Current values first: they decide skip/raise/lower and are reported as `before`.
  for (auto& it : items) {
    auto cur = fs_.read(it.ref);
    if (cur.ok()) {
      out[it.idx].before = cur.value;
    } else if (cur.gone()) {
      out[it.idx].status = cur.status;
      it.done = true;
    }
    // Other read errors: try the write anyway, it names the real problem.
  }

  // The quota each cgroup will end with: what the batch asks, else what is there now.
  auto final_quota = [&](const std::string& cgroup) -> std::optional<int64_t> {
    for (const auto& it : items)
      if (!it.done && it.ref.cgroup == cgroup && it.ref.knob == Knob::cpu_quota) return as_int(it.desired);
    auto cur = fs_.read(KnobRef{cgroup, Knob::cpu_quota, {}});
    if (cur.ok()) return as_int(cur.value);
    return std::nullopt;
  };
  for (auto& it : items) {
    if (it.done || it.ref.knob != Knob::cpu_burst) continue;
    auto q = final_quota(it.ref.cgroup);
    if (q && *q >= 0 && as_int(it.desired) > *q) {  // kernel: burst <= quota whenever a quota is set
      it.desired = KnobValue{*q};
      out[it.idx].write.value = it.desired;
      out[it.idx].clamped = true;
    }
  }
  for (auto& it : items) {
    const auto& before = out[it.idx].before;
    if (!it.done && before && fs_.same_value(it.ref, *before, it.desired)) it.done = true;  // skip unchanged
  }

  auto do_write = [&](Item& it, const KnobValue& v, bool final_write) {
    Status s = fs_.write(it.ref, v);
    if (trace_) trace_(it.ref, v, s);
    if (!final_write && s.ok()) return s;
    auto& o = out[it.idx];
    o.status = s;
    if (s.ok() && final_write) o.changed = true;
    if (!s.ok() && s.err == EINVAL && (it.ref.knob == Knob::cpu_quota || it.ref.knob == Knob::cpu_burst))
      o.status.detail = "kernel requires burst <= quota, quota >= 1000us and (v1) child quota <= parent quota";
    if (s.gone() || final_write) it.done = true;
    return s;
  };

  auto by_depth = [&](bool ascending) {
    std::vector<Item*> v;
    for (auto& it : items) v.push_back(&it);
    std::stable_sort(v.begin(), v.end(), [&](const Item* a, const Item* b) {
      return ascending ? a->depth < b->depth : a->depth > b->depth;
    });
    return v;
  };
  auto before_int = [&](const Item& it) -> std::optional<int64_t> {
    const auto& b = out[it.idx].before;
    if (!b) return std::nullopt;
    return as_int(*b);
  };

  // (1) burst lowered (it may sit above a quota that is about to drop).
  for (Item* it : by_depth(false))
    if (!it->done && it->ref.knob == Knob::cpu_burst) {
      auto b = before_int(*it);
      if (b && as_int(it->desired) < *b) do_write(*it, it->desired, true);
    }
  // Period changes go first among the quota writes, parents first.
  for (Item* it : by_depth(true))
    if (!it->done && it->ref.knob == Knob::cpu_period) do_write(*it, it->desired, true);
  // (2) quota raised, parents before children; an unknown current value is treated as a raise.
  for (Item* it : by_depth(true))
    if (!it->done && it->ref.knob == Knob::cpu_quota) {
      auto b = before_int(*it);
      if (!b || quota_greater(as_int(it->desired), *b)) do_write(*it, it->desired, true);
    }
  // (3) quota lowered, children before parents.
  for (Item* it : by_depth(false))
    if (!it->done && it->ref.knob == Knob::cpu_quota) do_write(*it, it->desired, true);
  // (4) burst raised (now that the quota above it is final).
  for (Item* it : by_depth(true))
    if (!it->done && it->ref.knob == Knob::cpu_burst) do_write(*it, it->desired, true);
  // (5) cpusets widened top-down with current ∪ desired, so no child ever asks for CPUs its parent lacks (v1
  // EACCES) and no parent drops CPUs a child still holds (v1 EBUSY).
  for (Item* it : by_depth(true)) {
    if (it->done || !is_cpuset_knob(it->ref.knob) || !out[it->idx].before) continue;
    const auto& cur = std::get<CpuSet>(*out[it->idx].before);
    CpuSet uni = cur | std::get<CpuSet>(it->desired);
    if (uni == cur) continue;
    if (uni == std::get<CpuSet>(it->desired)) {
      do_write(*it, it->desired, true);  // widening only: this is the final value
    } else {
      do_write(*it, KnobValue{uni}, false);
    }
  }
  // (6) cpuset final values bottom-up.
  for (Item* it : by_depth(false))
    if (!it->done && is_cpuset_knob(it->ref.knob)) do_write(*it, it->desired, true);
  // (7) everything else (shares, memory, io) in depth order.
  for (Item* it : by_depth(true))
    if (!it->done) do_write(*it, it->desired, true);

  // Superseded duplicates report what happened to the entry that won.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (out[i].status.detail.rfind("superseded", 0) != 0) continue;
    KnobRef r = batch[i].ref;
    r.cgroup = norm(r.cgroup);
    const auto& w = out[winner[r]];
    std::string detail = out[i].status.detail;
    out[i].before = w.before;
    out[i].status = w.status;
    out[i].status.detail = detail;
    out[i].changed = false;
  }
  return out;
}

}  // namespace slo::cg
