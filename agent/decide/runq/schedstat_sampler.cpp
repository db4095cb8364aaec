#include "agent/decide/runq/schedstat_sampler.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace slo::agent::runq {
namespace {

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Numeric entries of a directory (pids or tids); empty when it cannot be read (the process exited: gone).
std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    uint64_t v = 0;
    if (parse_u64(e->d_name, v) && v > 0 && v < (1u << 31)) out.push_back(static_cast<pid_t>(v));
  }
  ::closedir(d);
  return out;
}

void collect_pids(const std::filesystem::path& dir, std::vector<pid_t>& out, int depth) {
  if (auto text = read_small_file(dir / "cgroup.procs")) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      uint64_t v = 0;
      if (parse_u64(line, v) && v > 0 && v < (1u << 31)) out.push_back(static_cast<pid_t>(v));
    }
  }
  if (depth >= 8) return;  // kubepods trees are shallow; bound the walk anyway
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) collect_pids(it->path(), out, depth + 1);
  }
}

}  // namespace

std::optional<TaskSchedstat> parse_schedstat(const std::string& text) {
  std::istringstream in(text);
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return std::nullopt;
  TaskSchedstat s;
  if (!parse_u64(a, s.run_ns) || !parse_u64(b, s.wait_ns) || !parse_u64(c, s.timeslices)) return std::nullopt;
  return s;
}

std::optional<std::vector<pid_t>> SchedstatSampler::pids_below(const std::string& cgroup_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(cgroup_dir, ec)) return std::nullopt;
  std::vector<pid_t> out;
  collect_pids(cgroup_dir, out, 0);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<bpf::RunqHistogram> SchedstatSampler::sample(const std::string& pod_key,
                                                           const std::string& cgroup_dir) {
  auto pids = pids_below(cgroup_dir);
  if (!pids) {
    pods_.erase(pod_key);
    return std::nullopt;
  }
  bool first = pods_.find(pod_key) == pods_.end();
  auto& last = pods_[pod_key];
  std::map<pid_t, TaskSchedstat> now;
  bpf::RunqHistogram h;
  for (pid_t pid : *pids) {
    std::string task_dir = proc_root_ + "/" + std::to_string(pid) + "/task";
    for (pid_t tid : numeric_entries(task_dir)) {
      auto text = read_small_file(task_dir + "/" + std::to_string(tid) + "/schedstat");
      if (!text) continue;  // exited between listing and reading
      auto s = parse_schedstat(*text);
      if (!s) continue;
      now[tid] = *s;
      auto it = last.find(tid);
      if (first || it == last.end()) continue;  // baseline only
      const TaskSchedstat& prev = it->second;
      // A recycled tid shows smaller totals: treat as a new task.
      if (s->timeslices < prev.timeslices || s->wait_ns < prev.wait_ns) continue;
      uint64_t slices = s->timeslices - prev.timeslices;
      uint64_t wait = s->wait_ns - prev.wait_ns;
      if (slices == 0) continue;
      h.buckets[static_cast<size_t>(bpf::RunqHistogram::bucket_of_ns(wait / slices))] += slices;
      h.sum_ns += wait;
    }
  }
  last = std::move(now);
  return h;
}

size_t SchedstatSampler::tasks_seen(const std::string& pod_key) const {
  auto it = pods_.find(pod_key);
  return it == pods_.end() ? 0 : it->second.size();
}

}  // namespace slo::agent::runq
