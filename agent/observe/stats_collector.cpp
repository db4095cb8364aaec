#include "agent/observe/stats_collector.h"

#include "cgroups/stats.h"

namespace slo::agent {

void StatsCollector::read_cpu(const std::string& cgroup, ContainerStats& out,
                              std::chrono::steady_clock::time_point now) {
  if (cgroup.empty()) return;
  auto& f = files_[cgroup];
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
  if (f.usage.valid()) {
    ++preads_;
    auto st = f.usage.read(buf_);
    if (st.ok()) {
      if (auto v = cg::parse_int_file(buf_); v && *v >= 0) out.cpu_usage_ns = static_cast<uint64_t>(*v);
    } else {
      f.usage = cg::KeptFile();
    }
  }
}

void StatsCollector::read_memory(const std::string& cgroup, ContainerStats& out) {
  if (cgroup.empty()) return;
  auto r = fs_.memory(cgroup);
  preads_ += 2;
  if (r.ok())
    out.memory = std::move(r.value);
  else
    out.memory.reset();
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
