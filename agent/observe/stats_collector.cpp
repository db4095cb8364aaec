#include "agent/observe/stats_collector.h"

#include "cgroups/stats.h"

namespace slo::agent {

void StatsCollector::read_cpu(Handle h, const std::string& cgroup, ContainerStats& out,
                              std::chrono::steady_clock::time_point now, Usage usage) {
  auto& f = *h;
  if (!f.cpu_stat_tried) {
    f.cpu_stat_tried = true;
    auto r = fs_.keep_open(cgroup, cg::StatFile::cpu_stat);
    if (r.ok()) f.cpu_stat = std::move(r.value);
  }
  bool v2 = fs_.mode() == cg::Mode::v2;
  if (!v2 && !f.usage_tried) {
    f.usage_tried = true;
    auto r = fs_.keep_open(cgroup, cg::StatFile::cpu_usage);
    if (r.ok()) f.usage = std::move(r.value);
  }
  // -1: no previous sample (a plain value: GCC 12 warns maybe-uninitialized on an optional here).
  const int64_t prev_periods = out.cpu_stat ? static_cast<int64_t>(out.cpu_stat->nr_periods) : -1;
  out.cpu_stat.reset();
  if (f.cpu_stat.valid()) {
    ++preads_;
    auto st = f.cpu_stat.read(buf_);
    if (st.ok()) {
      out.cpu_stat = cg::parse_cpu_stat(buf_);
      out.cpu_stat_at = now;
      if (v2 && out.cpu_stat && out.cpu_stat->usage_ns) out.cpu_usage_ns = out.cpu_stat->usage_ns;
    } else {
      f.cpu_stat = cg::KeptFile();  // gone (rmdir'ed): stop reading it
    }
  }
  const bool idle = usage == Usage::when_active && out.cpu_stat && prev_periods > 0 && out.cpu_usage_ns &&
                    static_cast<int64_t>(out.cpu_stat->nr_periods) == prev_periods;
  if (f.usage.valid() && !idle) {
    ++preads_;
    auto st = f.usage.read(buf_);
    if (st.ok()) {
      if (auto v = cg::parse_int_file(buf_); v && *v >= 0) out.cpu_usage_ns = static_cast<uint64_t>(*v);
    } else {
      f.usage = cg::KeptFile();
    }
  }
}

namespace {

// The value of `key` in a flat-keyed file ("key value\n" lines), without building a map.
std::optional<uint64_t> flat_value(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ') {
      uint64_t v = 0;
      bool any = false;
      for (size_t i = key.size() + 1; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i, any = true)
        v = v * 10 + static_cast<uint64_t>(line[i] - '0');
      if (any) return v;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

}  // namespace

void StatsCollector::read_memory(Handle h, const std::string& cgroup, ContainerStats& out) {
  if (cgroup.empty()) return;
  auto& f = *h;
  if (!f.mem_tried) {
    f.mem_tried = true;
    if (auto r = fs_.keep_open(cgroup, cg::StatFile::memory_usage); r.ok()) f.mem_usage = std::move(r.value);
    if (auto r = fs_.keep_open(cgroup, cg::StatFile::memory_stat); r.ok()) f.mem_stat = std::move(r.value);
  }
  out.memory.reset();
  if (!f.mem_usage.valid() || !f.mem_stat.valid()) return;
  preads_ += 2;
  if (!f.mem_usage.read(buf_).ok()) {
    f.mem_usage = cg::KeptFile();  // gone
    return;
  }
  auto usage = cg::parse_int_file(buf_);
  if (!f.mem_stat.read(buf_).ok()) {
    f.mem_stat = cg::KeptFile();
    return;
  }
  if (!usage) return;
  // kubelet's working set: usage minus inactive file pages (v1: the hierarchical total_ counter).
  const bool v2 = fs_.mode() == cg::Mode::v2;
  auto inactive = flat_value(buf_, v2 ? "inactive_file" : "total_inactive_file");
  if (!inactive && !v2) inactive = flat_value(buf_, "inactive_file");
  cg::MemoryUsage m;
  m.usage_bytes = *usage;
  const auto in = static_cast<int64_t>(inactive.value_or(0));
  m.working_set_bytes = m.usage_bytes > in ? m.usage_bytes - in : 0;
  out.memory = std::move(m);
}

void StatsCollector::retain(const std::set<std::string>& live) {
  for (auto it = files_.begin(); it != files_.end();) {
    if (live.count(it->first))
      ++it;
    else
      it = files_.erase(it);
  }
}

size_t StatsCollector::open_files() const {
  size_t n = 0;
  for (const auto& [_, f] : files_) n += f.cpu_stat.valid() + f.usage.valid();
  return n;
}

}  // namespace slo::agent
