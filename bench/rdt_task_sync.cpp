// Cost of one RDT task-sync tick on fake trees: list the threads of every container cgroup with
// cg::CgroupFs::threads() (as RdtController does), then ResctrlWriter::apply() for the three class groups
// (flock, stale-group scan, schemata diff, read each group's tasks, write only new TIDs one per write(2)).
// Between ticks (untimed) a churn fraction of threads exits and as many new ones appear; the exited TIDs are
// dropped from the fake resctrl tasks files, as the kernel would.
//
// Usage: rdt_task_sync_bench [--pods N] [--threads N] [--churn F] [--ticks N]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "rdt/resctrl_fs.h"
#include "rdt/root.h"
#include "rdt/schemata.h"
#include "rdt/writer.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::trunc);
  f << s;
}

std::string tids_text(const std::vector<int>& tids) {
  std::string s;
  for (int t : tids) s += std::to_string(t) + "\n";
  return s;
}

// CPU time of this thread: under a loaded machine (CI, shared builders) wall time mostly measures waiting.
double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 200, threads = 50, ticks = 200;
  double churn = 0.01;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--pods") pods = std::atoi(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--churn") churn = std::atof(argv[i + 1]);
    else if (a == "--ticks") ticks = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::string tmpl = (fs::temp_directory_path() / "slo-rdt-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return 1;
  fs::path base = tmpl;

  // Fake resctrl root: one L3 resource with 4 domains, 16 CLOSIDs.
  fs::path rc = base / "resctrl";
  write_file(rc / "info/L3/cbm_mask", "fffff\n");
  write_file(rc / "info/L3/min_cbm_bits", "1\n");
  write_file(rc / "info/L3/num_closids", "16\n");
  write_file(rc / "info/last_cmd_status", "ok\n");
  write_file(rc / "schemata", "L3:0=fffff;1=fffff;2=fffff;3=fffff\n");
  write_file(rc / "tasks", "1\n");

  // Fake cgroup v1 tree: cpu/kubepods/pod<i>/c0/tasks with `threads` TIDs each. Classes: 10 % LSR, 40 % LS, 50 % BE.
  fs::path cg = base / "cgroup";
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory"}) fs::create_directories(cg / c);
  std::vector<std::vector<int>> pod_tids(static_cast<size_t>(pods));
  std::vector<std::string> cgroups;
  int next_tid = 100000;
  for (int p = 0; p < pods; ++p) {
    for (int t = 0; t < threads; ++t) pod_tids[static_cast<size_t>(p)].push_back(next_tid++);
    std::string rel = "kubepods/pod" + std::to_string(p) + "/c0";
    cgroups.push_back(rel);
    write_file(cg / "cpu" / rel / "tasks", tids_text(pod_tids[static_cast<size_t>(p)]));
  }
  auto cgfs = slo::cg::CgroupFs::open(cg.string());
  if (!cgfs.ok()) {
    std::fprintf(stderr, "cgroup tree: %s\n", cgfs.status.describe().c_str());
    return 1;
  }
  auto root = slo::rdt::open_resctrl_root(rc.string(), slo::rdt::RootCheck::trust_contents);
  if (!root.ok()) {
    std::fprintf(stderr, "resctrl tree: %s\n", root.status.describe().c_str());
    return 1;
  }
  slo::rdt::FixtureResctrlFs rfs(std::move(root.value.dir));
  slo::rdt::ResctrlWriter writer(rfs);
  auto class_of = [&](int p) { return p < pods / 10 ? 0 : p < pods / 2 ? 1 : 2; };
  const char* names[] = {"slo-LSR", "slo-LS", "slo-BE"};
  slo::rdt::Schemata sch[3] = {
      slo::rdt::parse_schemata("L3:0=fffff;1=fffff;2=fffff;3=fffff\n").schemata,
      slo::rdt::parse_schemata("L3:0=fffff;1=fffff;2=fffff;3=fffff\n").schemata,
      slo::rdt::parse_schemata("L3:0=3f;1=3f;2=3f;3=3f\n").schemata};

  std::mt19937 rng(42);
  std::vector<double> total_us, list_us, apply_us, cpu_total_us, cpu_apply_us;
  size_t written_sum = 0;
  double first_tick_us = 0;
  size_t first_written = 0;
  for (int tick = 0; tick <= ticks; ++tick) {
    if (tick > 0) {
      // Churn (untimed): replace churn·N threads by new ones, in the cgroup tasks files and — for the exited
      // ones — in the fake resctrl tasks files (the kernel forgets exited threads by itself).
      size_t total = static_cast<size_t>(pods) * static_cast<size_t>(threads);
      size_t n = static_cast<size_t>(churn * static_cast<double>(total) + 0.5);
      std::vector<int> exited;
      std::vector<bool> touched(static_cast<size_t>(pods), false);
      for (size_t k = 0; k < n; ++k) {
        size_t p = rng() % static_cast<size_t>(pods);
        auto& v = pod_tids[p];
        size_t t = rng() % v.size();
        exited.push_back(v[t]);
        v[t] = next_tid++;
        touched[p] = true;
      }
      for (size_t p = 0; p < touched.size(); ++p)
        if (touched[p]) write_file(cg / "cpu" / cgroups[p] / "tasks", tids_text(pod_tids[p]));
      std::sort(exited.begin(), exited.end());
      for (const char* g : names) {
        auto cur = slo::rdt::parse_tasks(rfs.read(std::string(g) + "/tasks").value);
        std::vector<int> keep;
        std::set_difference(cur.begin(), cur.end(), exited.begin(), exited.end(), std::back_inserter(keep));
        write_file(rc / g / "tasks", tids_text(keep));
      }
    }
    double c0 = cpu_us();
    auto t0 = Clock::now();
    std::vector<slo::rdt::GroupSpec> specs(3);
    for (int c = 0; c < 3; ++c) specs[static_cast<size_t>(c)] = {names[c], sch[c], {}};
    for (int p = 0; p < pods; ++p) {
      auto t = cgfs.value.threads(cgroups[static_cast<size_t>(p)], slo::cg::Controller::cpu);
      if (!t.ok()) {
        std::fprintf(stderr, "threads: %s\n", t.status.describe().c_str());
        return 1;
      }
      auto& dst = specs[static_cast<size_t>(class_of(p))].tids;
      dst.insert(dst.end(), t.value.begin(), t.value.end());
    }
    auto t1 = Clock::now();
    double c1 = cpu_us();
    auto rep = writer.apply(specs, 16);
    auto t2 = Clock::now();
    double c2 = cpu_us();
    if (!rep.errors.empty()) {
      std::fprintf(stderr, "apply: %s\n", rep.errors[0].describe().c_str());
      return 1;
    }
    double l = std::chrono::duration<double, std::micro>(t1 - t0).count();
    double a = std::chrono::duration<double, std::micro>(t2 - t1).count();
    if (tick == 0) {
      first_tick_us = l + a;
      first_written = rep.tasks.written;
      continue;
    }
    list_us.push_back(l);
    apply_us.push_back(a);
    total_us.push_back(l + a);
    cpu_total_us.push_back(c2 - c0);
    cpu_apply_us.push_back(c2 - c1);
    written_sum += rep.tasks.written;
  }
  std::printf("rdt task sync: %d pods x %d threads = %d TIDs, churn %.2f %%/tick, %d ticks (fake trees in %s)\n",
              pods, threads, pods * threads, churn * 100, ticks, fs::temp_directory_path().c_str());
  std::printf("  first tick (all %zu TIDs written): %.0f us\n", first_written, first_tick_us);
  std::printf("  steady ticks: new TIDs written per tick (mean) %.1f\n",
              static_cast<double>(written_sum) / static_cast<double>(total_us.size()));
  std::printf("  per tick wall   : median %.0f us, p90 %.0f us, max %.0f us\n", pct(total_us, 0.5),
              pct(total_us, 0.9), pct(total_us, 1.0));
  std::printf("    list threads  : median %.0f us (CgroupFs::threads x %d)\n", pct(list_us, 0.5), pods);
  std::printf("    apply (writer): median %.0f us (flock, group scan, schemata diff, tasks read + writes)\n",
              pct(apply_us, 0.5));
  std::printf("  per tick CPU time (this thread): median %.0f us total, %.0f us in apply\n", pct(cpu_total_us, 0.5),
              pct(cpu_apply_us, 0.5));
  std::error_code ec;
  fs::remove_all(base, ec);
  return 0;
}
