// Overhead of the scheduler BPF programs on a context-switch-heavy load: `perf bench sched pipe` (two processes
// ping-ponging through pipes, pinned to one CPU) with and without sched_probe attached, alternating A/B/B/A in one
// run so that drift from the rest of the machine hits both sides alike. Two placements of the load:
//   untracked  the load runs outside every tracked cgroup (the node's other tasks): programs run, find no pod
//   tracked    the load runs inside a tracked pod cgroup: every wakeup and switch is recorded (worst case)
// Then one extra run with BPF run-time stats on gives the kernel-side cost per program invocation.
//
//   bpf_overhead_bench [--reps N] [--loops L] [--cpu C] [--raw-tp]      (root; docs/benchmarks-bpf.md)
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bpf/cgroup_id.h"
#include "bpf/sched_probe.h"

namespace {

struct Args {
  int reps = 8;
  int loops = 40000;
  int cpu = 0;
  bool raw_tp = false;
};

// A throw-away v1 cpu cgroup for the tracked placement; removed on exit.
class BenchCgroup {
 public:
  BenchCgroup() {
    std::random_device rd;
    path_ = "/sys/fs/cgroup/cpu/slo-bench-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
    if (::mkdir(path_.c_str(), 0755) != 0) {
      std::fprintf(stderr, "mkdir %s: %s\n", path_.c_str(), std::strerror(errno));
      std::exit(1);
    }
  }
  ~BenchCgroup() {
    for (int i = 0; i < 200 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs perf bench sched pipe pinned to `cpu`, inside `cgroup` when given; returns ops/sec.
std::optional<double> run_pipe(const Args& a, const std::string& cgroup) {
  int out[2];
  if (::pipe(out) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(a.cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(3);
    if (!cgroup.empty()) {
      std::ofstream procs(cgroup + "/cgroup.procs");
      procs << ::getpid();
      procs.flush();
      if (!procs) ::_exit(4);
    }
    std::string loops = std::to_string(a.loops);
    ::execlp("perf", "perf", "bench", "sched", "pipe", "-l", loops.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "perf bench failed (status %d): %s\n", status, text.c_str());
    return std::nullopt;
  }
  size_t pos = text.find("ops/sec");
  if (pos == std::string::npos) return std::nullopt;
  size_t start = text.rfind('\n', pos);
  return std::strtod(text.c_str() + (start == std::string::npos ? 0 : start + 1), nullptr);
}

std::unique_ptr<slo::bpf::SchedProbe> attach(const Args& a, uint64_t pod_id) {
  slo::bpf::SchedProbeOptions o;
  o.first = a.raw_tp ? slo::bpf::AttachKind::raw_tp : slo::bpf::AttachKind::tp_btf;
  std::string error;
  auto p = slo::bpf::SchedProbe::open(o, &error);
  if (!p) {
    std::fprintf(stderr, "cannot load sched_probe: %s\n", error.c_str());
    std::exit(1);
  }
  if (!p->track(pod_id, &error)) {
    std::fprintf(stderr, "track: %s\n", error.c_str());
    std::exit(1);
  }
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void scenario(const Args& a, const char* name, const std::string& load_cgroup, uint64_t pod_id) {
  std::vector<double> off, on, ratio;
  std::printf("\n%s placement (%d × A/B, %d loops each, CPU %d):\n  rep   off ops/s    on ops/s   on/off\n", name,
              a.reps, a.loops, a.cpu);
  for (int r = 0; r < a.reps; r++) {
    // ABBA: even reps measure off first, odd reps on first.
    std::optional<double> x, y;
    for (int half = 0; half < 2; half++) {
      bool with_bpf = (half == 1) != (r % 2 == 1);
      std::unique_ptr<slo::bpf::SchedProbe> probe;
      if (with_bpf) probe = attach(a, pod_id);
      auto ops = run_pipe(a, load_cgroup);
      if (!ops) std::exit(1);
      (with_bpf ? y : x) = ops;
    }
    off.push_back(*x);
    on.push_back(*y);
    ratio.push_back(*y / *x);
    std::printf("  %3d  %10.0f  %10.0f  %7.3f\n", r + 1, *x, *y, *y / *x);
  }
  double mo = median(off), mn = median(on), mr = median(ratio);
  std::printf("  median off %.0f ops/s, on %.0f ops/s: throughput change %+.2f %% (median of per-rep ratios %+.2f "
              "%%)\n",
              mo, mn, (mn / mo - 1) * 100, (mr - 1) * 100);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i++) {
    std::string s = argv[i];
    auto next = [&]() -> int { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (s == "--reps") a.reps = next();
    else if (s == "--loops") a.loops = next();
    else if (s == "--cpu") a.cpu = next();
    else if (s == "--raw-tp") a.raw_tp = true;
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--loops L] [--cpu C] [--raw-tp]\n", argv[0]);
      return 2;
    }
  }
  if (!slo::bpf::built_with_bpf()) {
    std::fprintf(stderr, "built without BPF support\n");
    return 77;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "needs root (BPF load, cgroup creation)\n");
    return 77;
  }
  BenchCgroup pod;
  uint64_t pod_id = *slo::bpf::cgroup_id_of(pod.path());
  {
    auto p = attach(a, pod_id);
    std::printf("sched_probe overhead on perf bench sched pipe, programs: %s, wait timing: %s\n",
                std::string(slo::bpf::to_string(p->attach_kind())).c_str(),
                p->uses_sched_info() ? "scheduler queue stamp, sched_switch only"
                : p->uses_task_storage() ? "own timestamps in task storage" : "own timestamps in a hash map");
  }
  scenario(a, "untracked", "", pod_id);
  scenario(a, "tracked", pod.path(), pod_id);

  // Kernel-side cost per invocation (stats on only for these runs).
  for (bool tracked : {false, true}) {
    auto probe = attach(a, pod_id);
    int stats_fd = slo::bpf::enable_run_time_stats();
    if (stats_fd < 0) {
      std::printf("\nBPF run-time stats unavailable: %s\n", std::strerror(-stats_fd));
      return 0;
    }
    auto ops = run_pipe(a, tracked ? pod.path() : "");
    auto stats = probe->program_stats();
    ::close(stats_fd);
    slo::bpf::RunqHistogram h;
    probe->read(pod_id, h);
    std::printf("\nkernel-side cost, %s placement, one run of %d loops (%.0f ops/s with stats on):\n",
                tracked ? "tracked" : "untracked", a.loops, ops.value_or(0));
    uint64_t total_ns = 0;
    for (const auto& st : stats) {
      std::printf("  %-16s %9llu runs  %6.0f ns/run\n", st.name.c_str(),
                  static_cast<unsigned long long>(st.run_count),
                  st.run_count ? static_cast<double>(st.run_time_ns) / static_cast<double>(st.run_count) : 0.0);
      total_ns += st.run_time_ns;
    }
    std::printf("  per loop: %.0f ns of BPF (all CPUs, includes other tasks' events); %llu run-queue samples\n",
                static_cast<double>(total_ns) / a.loops, static_cast<unsigned long long>(h.count()));
  }
  return 0;
}
