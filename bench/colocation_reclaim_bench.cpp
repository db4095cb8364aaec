// Trace-driven benchmark of the reclaimed-resource estimator (issue 7): a generated day of LS load — a diurnal curve
// per pod with its own phase and amplitude, lunchtime and evening peaks, short random bursts, noise, one pod
// redeployed mid-afternoon (cold start) — replayed at the Reclaimed controller's sampling cadence (1 s) against
// ReclaimEstimator. Each second the estimate is what the node offers as kubernetes.io/batch-cpu; BE pods are
// assumed to take all of what was last published (worst case), where publication follows the node-status rule
// (a move of more than resourceDiffThreshold, or updateTimeThresholdSeconds since the last PATCH).
//
// Reported: batch capacity offered (average cores, core-hours per day) and how often LS usage + system usage + BE
// allocation would have exceeded the node's capacity (goal: never), next to a static watermark that allocates
// the same average to BE all day long.
//
//   colocation_reclaim_bench [--seed N] [--cores C] [--pods P] [--load F] [--csv FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "agent/decide/colocation/reclaim_estimator.h"

using namespace slo::colocation;

namespace {

constexpr int kDay = 86400;
constexpr double kPi = 3.14159265358979323846;

struct PodShape {
  double base, amplitude, phase_h, request, burst_rate, burst_size;
};

// Diurnal demand in [0, 1]: low at night, a wide day hump, a lunchtime and an evening peak.
double diurnal(double hour, double phase_h) {
  double h = std::fmod(hour - phase_h + 24.0, 24.0);
  double day = 0.5 - 0.5 * std::cos(2 * kPi * (h - 3.0) / 24.0);  // minimum at 03:00, maximum at 15:00
  auto bump = [&](double at, double width) { return std::exp(-0.5 * std::pow((h - at) / width, 2)); };
  return std::clamp(0.65 * day + 0.25 * bump(12.5, 0.6) + 0.35 * bump(20.0, 0.9), 0.0, 1.0);
}

struct Trace {
  std::vector<std::vector<double>> pod_cpu;  // [pod][second]
  std::vector<double> system;                // [second]
};

Trace generate(int pods, double cores, double load, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 1);
  // Sized so that the LS pods together peak near 90 % of the node in the evening and idle at ~20 % at night.
  std::vector<PodShape> shapes;
  for (int i = 0; i < pods; ++i) {
    double share = cores / pods;
    shapes.push_back({0.15 * share * (0.8 + 0.4 * u(rng)), 0.68 * load * share * (0.8 + 0.4 * u(rng)), u(rng) * 1.5 - 0.75,
                      0.5 * share, 1.0 / (600 + 1200 * u(rng)), 0.3 * share * (0.5 + u(rng))});
  }
  Trace t;
  t.pod_cpu.assign(static_cast<size_t>(pods), std::vector<double>(kDay));
  t.system.assign(kDay, 0);
  for (int i = 0; i < pods; ++i) {
    const auto& s = shapes[static_cast<size_t>(i)];
    double ar = 0;           // AR(1) noise: minute-scale wander, not white noise per second
    int burst_left = 0;      // a burst lasts 5–60 s
    double burst = 0;
    for (int sec = 0; sec < kDay; ++sec) {
      ar = 0.98 * ar + 0.2 * noise(rng);
      if (burst_left == 0 && u(rng) < s.burst_rate) {
        burst_left = 5 + static_cast<int>(u(rng) * 55);
        burst = s.burst_size * (0.5 + u(rng));
      }
      double b = burst_left > 0 ? burst : 0;
      if (burst_left > 0) --burst_left;
      double v = s.base + s.amplitude * diurnal(sec / 3600.0, s.phase_h) + b + 0.04 * (cores / pods) * ar;
      t.pod_cpu[static_cast<size_t>(i)][static_cast<size_t>(sec)] = std::max(0.0, v);
    }
  }
  double ar = 0;
  for (int sec = 0; sec < kDay; ++sec) {
    ar = 0.99 * ar + 0.1 * noise(rng);
    t.system[static_cast<size_t>(sec)] = std::max(0.2, 0.03 * cores + 0.2 * ar);
  }
  return t;
}

struct Outcome {
  double avg_alloc = 0, core_hours = 0;
  int over_seconds = 0, over_episodes = 0;
  double max_over = 0;       // cores above capacity at worst
  double min_headroom = 1e9;  // capacity − (LS + system + BE) at best
};

void account(Outcome& o, double ls, double sys, double alloc, double cores, bool& in_episode) {
  double total = ls + sys + alloc;
  o.min_headroom = std::min(o.min_headroom, cores - total);
  if (total > cores) {
    ++o.over_seconds;
    if (!in_episode) ++o.over_episodes;
    in_episode = true;
    o.max_over = std::max(o.max_over, total - cores);
  } else {
    in_episode = false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 42;
  double cores = 32;
  int pods = 8;
  const char* csv = nullptr;
  double load = 1.0;  // × the diurnal amplitude (1.0: LS peaks at ~80 % of the node)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") seed = std::strtoull(next(), nullptr, 10);
    else if (a == "--cores") cores = std::atof(next());
    else if (a == "--pods") pods = std::atoi(next());
    else if (a == "--csv") csv = next();
    else if (a == "--load") load = std::atof(next());
    else {
      std::fprintf(stderr, "usage: colocation_reclaim_bench [--seed N] [--cores C] [--pods P] [--load F] [--csv FILE]\n");
      return 2;
    }
  }
  if (pods < 1 || cores < 1) return 2;
  Trace tr = generate(pods, cores, load, seed);

  const double diff_threshold = 0.1, update_seconds = 300;  // resourceDiffThreshold, updateTimeThresholdSeconds
  std::vector<double> ls_total(kDay);
  for (int sec = 0; sec < kDay; ++sec)
    for (int i = 0; i < pods; ++i)
      ls_total[static_cast<size_t>(sec)] += tr.pod_cpu[static_cast<size_t>(i)][static_cast<size_t>(sec)];
  double ls_peak = *std::max_element(ls_total.begin(), ls_total.end());
  double ls_sum = 0;
  for (double v : ls_total) ls_sum += v;

  // One replay: the BE allocation in force each second under the estimator with these settings.
  auto replay = [&](const ReclaimSettings& settings, std::vector<double>& offered) {
    ReclaimEstimator est(settings);
    const int redeploy_pod = 0, redeploy_at = 15 * 3600;  // pod 0 replaced at 15:00 (new key: cold start)
    std::vector<double> allocated(kDay);
    offered.assign(kDay, 0);
    double published = 0, published_at = -1e9;
    const double t0 = 1.8e9;  // any epoch: the estimator only looks at differences
    std::vector<PodSample> samples(static_cast<size_t>(pods));
    for (int sec = 0; sec < kDay; ++sec) {
      for (int i = 0; i < pods; ++i) {
        double v = tr.pod_cpu[static_cast<size_t>(i)][static_cast<size_t>(sec)];
        std::string key = "ls/pod-" + std::to_string(i) + (i == redeploy_pod && sec >= redeploy_at ? "-v2" : "");
        samples[static_cast<size_t>(i)] = {key, v, 1ll << 30, cores / pods * 0.5, 2ll << 30};
      }
      double now = t0 + sec;
      // BE allocation in force this second: what was published up to the previous one (BE pods fill it at once).
      allocated[static_cast<size_t>(sec)] = published;
      est.observe(samples, now);
      auto r = est.compute(cores, 256ll << 30, tr.system[static_cast<size_t>(sec)], 64ll << 30, 0, 0, now, now);
      double batch = static_cast<double>(r.batch_cpu_millis) / 1000.0;
      offered[static_cast<size_t>(sec)] = batch;
      bool moved = published <= 0 ? batch > 0 : std::fabs(batch - published) / published > diff_threshold;
      if (moved || now - published_at >= update_seconds) {
        published = batch;
        published_at = now;
      }
    }
    return allocated;
  };
  auto outcomes = [&](const std::vector<double>& allocated, Outcome& dyn, Outcome& stat) {
    double sum = 0;
    for (double a : allocated) sum += a;
    double avg = sum / kDay;
    bool ep_d = false, ep_s = false;
    for (int sec = 0; sec < kDay; ++sec) {
      auto s = static_cast<size_t>(sec);
      account(dyn, ls_total[s], tr.system[s], allocated[s], cores, ep_d);
      account(stat, ls_total[s], tr.system[s], avg, cores, ep_s);
    }
    dyn.avg_alloc = stat.avg_alloc = avg;
    dyn.core_hours = stat.core_hours = avg * 24;
  };
  ReclaimSettings defaults;  // colocationStrategy defaults (docs/config-colocation.md)
  ReclaimSettings short_memory = defaults;
  short_memory.half_life = std::chrono::hours(1);
  std::vector<double> offered, offered_short;
  auto allocated = replay(defaults, offered);
  auto allocated_short = replay(short_memory, offered_short);
  Outcome dyn, stat, dyn_s, stat_s;
  outcomes(allocated, dyn, stat);
  outcomes(allocated_short, dyn_s, stat_s);
  const ReclaimSettings& settings = defaults;
  const double avg = dyn.avg_alloc;

  std::printf("day of LS load: seed %llu, load x%.2f, %d LS pods on %.0f cores, 1 s samples; LS avg %.2f, peak %.2f "
              "cores (%.0f %% of the node); system avg ~%.2f cores\n",
              static_cast<unsigned long long>(seed), load, pods, cores, ls_sum / kDay, ls_peak, 100 * ls_peak / cores,
              0.03 * cores);
  std::printf("estimator: defaults (cpuReclaimThresholdPercent %.0f, policy usage, p%.0f x %.2f, half-life %lld h, "
              "cold start %lld s); publication: diff %.0f %% or %.0f s\n\n",
              settings.cpu_reclaim_threshold_percent, settings.cpu_percentile * 100, settings.margin,
              static_cast<long long>(settings.half_life.count() / 3600),
              static_cast<long long>(settings.cold_start.count()), diff_threshold * 100, update_seconds);
  std::printf("%-34s %12s %12s %14s %12s %14s %16s\n", "", "avg BE cores", "core-hours", "over capacity",
              "episodes", "worst over", "min headroom");
  auto row = [&](const char* name, const Outcome& o) {
    std::printf("%-34s %12.2f %12.1f %9d s %3.2f%% %12d %11.2f c %13.2f c\n", name, o.avg_alloc, o.core_hours,
                o.over_seconds, 100.0 * o.over_seconds / kDay, o.over_episodes, o.max_over, o.min_headroom);
  };
  row("estimator, half-life 12 h (default)", dyn);
  row("static watermark, same average", stat);
  row("estimator, half-life 1 h", dyn_s);
  row("static watermark, same average", stat_s);
  // The most a static watermark could give without ever exceeding, known only in hindsight.
  double best_static = 1e9;
  for (int sec = 0; sec < kDay; ++sec)
    best_static = std::min(best_static, cores - ls_total[static_cast<size_t>(sec)] - tr.system[static_cast<size_t>(sec)]);
  best_static = std::max(0.0, best_static);
  Outcome hind;
  bool ep_h = false;
  for (int sec = 0; sec < kDay; ++sec)
    account(hind, ls_total[static_cast<size_t>(sec)], tr.system[static_cast<size_t>(sec)], best_static, cores, ep_h);
  hind.avg_alloc = best_static;
  hind.core_hours = best_static * 24;
  row("static, largest safe (hindsight)", hind);
  // Hourly profile: what the estimator offered vs the LS load.
  std::printf("\nBE allocation per hour (published), default half-life and 1 h\n");
  std::printf("hour  LS avg  LS max  12h avg  12h min   1h avg   1h min\n");
  for (int h = 0; h < 24; ++h) {
    double la = 0, lm = 0, oa = 0, om = 1e9, sa = 0, sm = 1e9;
    for (int s = h * 3600; s < (h + 1) * 3600; ++s) {
      la += ls_total[static_cast<size_t>(s)];
      lm = std::max(lm, ls_total[static_cast<size_t>(s)]);
      oa += allocated[static_cast<size_t>(s)];
      om = std::min(om, allocated[static_cast<size_t>(s)]);
      sa += allocated_short[static_cast<size_t>(s)];
      sm = std::min(sm, allocated_short[static_cast<size_t>(s)]);
    }
    std::printf("%02d   %6.2f  %6.2f  %7.2f  %7.2f  %7.2f  %7.2f\n", h, la / 3600, lm, oa / 3600, om, sa / 3600, sm);
  }
  if (csv) {
    FILE* f = std::fopen(csv, "w");
    if (!f) {
      std::perror(csv);
      return 1;
    }
    std::fprintf(f, "second,ls_cores,system_cores,offered_cores,allocated_cores,static_cores,allocated_1h_cores\n");
    for (int s = 0; s < kDay; s += 10)
      std::fprintf(f, "%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", s, ls_total[static_cast<size_t>(s)],
                   tr.system[static_cast<size_t>(s)], offered[static_cast<size_t>(s)],
                   allocated[static_cast<size_t>(s)], avg, allocated_short[static_cast<size_t>(s)]);
    std::fclose(f);
  }
  return dyn.over_seconds == 0 && dyn_s.over_seconds == 0 ? 0 : 1;
}
