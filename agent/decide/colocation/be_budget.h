// How much CPU the best-effort tier may use this tick (BE suppression), and how that number moves.
#pragma once

#include <optional>

namespace slo::colocation {

struct BeBudgetInput {
  double capacity_cores = 0;        // online CPUs
  double threshold_percent = 65;    // cpuSuppressThresholdPercent
  double ls_usage_cores = 0;        // non-BE pods' usage over the last CFS periods
  double system_usage_cores = 0;    // node usage outside kubepods
  double reserved_cores = 0;        // configured system reservation
  double min_cores = 0.5;           // floor: BE is slowed, never frozen (frozen BE holds locks LS may need)
};

// capacity × threshold − LS usage − max(system usage, reserved), floored at min_cores and capped at capacity.
double be_cpu_budget(const BeBudgetInput& in);

// Interference from run-queue latency: every tick with an LS pod over its latency SLO halves the cap (down to the
// floor); every clean tick raises it by `recover_fraction` of capacity until it no longer binds. The final budget
// is min(watermark budget, interference cap): the watermark follows load, the cap follows measured harm.
class InterferenceCap {
 public:
  InterferenceCap(double recover_fraction = 0.1) : recover_fraction_(recover_fraction) {}
  // Returns the cap for this tick (nullopt = not binding).
  std::optional<double> update(bool breached, double current_budget, double capacity, double floor);

 private:
  double recover_fraction_;
  std::optional<double> cap_;
};

// Shrinks at once (LS needs the CPUs now), grows by at most `max_growth_cores` per tick (so a brief LS dip does
// not hand BE the whole node just before the next spike).
class BudgetSmoother {
 public:
  explicit BudgetSmoother(double max_growth_cores = 1.0) : max_growth_(max_growth_cores) {}
  double update(double target);
  void reset() { last_.reset(); }

 private:
  double max_growth_;
  std::optional<double> last_;
};

}  // namespace slo::colocation
