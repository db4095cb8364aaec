#include "agent/decide/colocation/be_budget.h"

#include <algorithm>

namespace slo::colocation {

double be_cpu_budget(const BeBudgetInput& in) {
  double budget = in.capacity_cores * in.threshold_percent / 100.0 - in.ls_usage_cores -
                  std::max(in.system_usage_cores, in.reserved_cores);
  budget = std::min(budget, in.capacity_cores);
  return std::max(budget, std::min(in.min_cores, in.capacity_cores));
}

std::optional<double> InterferenceCap::update(bool breached, double current_budget, double capacity, double floor) {
  if (breached) {
    double base = cap_ ? std::min(*cap_, current_budget) : current_budget;
    cap_ = std::max(floor, base / 2.0);
  } else if (cap_) {
    *cap_ += recover_fraction_ * capacity;
    if (*cap_ >= capacity) cap_.reset();
  }
  return cap_;
}

double BudgetSmoother::update(double target) {
  if (!last_ || target <= *last_) {
    last_ = target;
  } else {
    last_ = std::min(target, *last_ + max_growth_);
  }
  return *last_;
}

}  // namespace slo::colocation
