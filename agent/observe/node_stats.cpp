#include "agent/observe/node_stats.h"

#include <charconv>
#include <vector>

namespace slo::agent {
namespace {

std::vector<uint64_t> numbers(std::string_view line) {
  std::vector<uint64_t> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(line.data() + i, line.data() + j, v);
    if (ec == std::errc() && p == line.data() + j) out.push_back(v);
    i = j;
  }
  return out;
}

}  // namespace

std::optional<ProcStatCpu> parse_proc_stat(std::string_view text) {
  ProcStatCpu out;
  bool seen = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.rfind("cpu ", 0) == 0) {
      auto v = numbers(line.substr(4));
      if (v.size() < 4) return std::nullopt;
      // user nice system idle iowait irq softirq steal (guest is already counted in user)
      constexpr uint64_t kNsPerTick = 10'000'000;
      uint64_t idle = v[3] + (v.size() > 4 ? v[4] : 0);
      uint64_t busy = v[0] + v[1] + v[2];
      for (size_t k = 5; k < v.size() && k < 8; ++k) busy += v[k];
      out.busy_ns = busy * kNsPerTick;
      out.total_ns = (busy + idle) * kNsPerTick;
      seen = true;
    } else if (line.rfind("cpu", 0) == 0 && line.size() > 3 && line[3] >= '0' && line[3] <= '9') {
      ++out.cpus;
    }
  }
  if (!seen) return std::nullopt;
  return out;
}

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  bool total = false, avail = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto parse_kb = [&](std::string_view key, int64_t& out) {
      if (line.rfind(key, 0) != 0) return false;
      auto v = numbers(line.substr(key.size()));
      if (v.empty()) return false;
      out = static_cast<int64_t>(v[0]) * 1024;
      return true;
    };
    total = parse_kb("MemTotal:", m.total_bytes) || total;
    avail = parse_kb("MemAvailable:", m.available_bytes) || avail;
  }
  if (!total) return std::nullopt;
  if (!avail) m.available_bytes = m.total_bytes;
  return m;
}

NodeStatsReader::NodeStatsReader(const std::string& proc_root) {
  auto root = cg::DirFd::open_root(proc_root);
  if (!root.ok()) {
    error_ = root.status.describe();
    return;
  }
  auto s = cg::KeptFile::open(root.value, "stat");
  auto m = cg::KeptFile::open(root.value, "meminfo");
  if (s.ok()) stat_ = std::move(s.value);
  if (m.ok()) meminfo_ = std::move(m.value);
  if (!s.ok()) error_ = s.status.describe();
  if (!m.ok()) error_ = m.status.describe();
}

void NodeStatsReader::read(NodeStats& out) {
  if (stat_.valid() && stat_.read(buf_).ok()) {
    if (auto p = parse_proc_stat(buf_)) {
      out.cpu_busy_ns = p->busy_ns;
      if (p->cpus > 0) out.cpu_capacity_cores = p->cpus;
    }
  }
  if (meminfo_.valid() && meminfo_.read(buf_).ok()) {
    if (auto m = parse_meminfo(buf_)) {
      out.memory_total_bytes = m->total_bytes;
      out.memory_available_bytes = m->available_bytes;
      out.memory_used_bytes = m->total_bytes - m->available_bytes;
    }
  }
}

}  // namespace slo::agent
