#include "agent/decide/colocation/decaying_histogram.h"

#include <algorithm>
#include <cmath>

namespace slo::colocation {

DecayingHistogram::DecayingHistogram(double first_bucket, double ratio, std::chrono::seconds half_life)
    : first_(first_bucket), ratio_(ratio), half_life_s_(static_cast<double>(half_life.count())) {}

size_t DecayingHistogram::bucket_of(double v) const {
  if (v <= first_) return 0;
  auto b = static_cast<size_t>(std::ceil(std::log(v / first_) / std::log(ratio_)));
  return std::min(b, kBuckets - 1);
}

double DecayingHistogram::upper_bound(size_t b) const { return first_ * std::pow(ratio_, static_cast<double>(b)); }

void DecayingHistogram::add(double value, double now_s, double weight) {
  if (!(value >= 0) || !(weight > 0)) return;  // NaN-safe
  if (reference_time_ < 0) reference_time_ = now_s;
  double scaled = weight * std::exp2((now_s - reference_time_) / half_life_s_);
  if (scaled > 1e12) {  // renormalise: move the reference to now
    double f = std::exp2(-(now_s - reference_time_) / half_life_s_);
    for (auto& x : w_) x.second *= f;
    total_ *= f;
    reference_time_ = now_s;
    scaled = weight;
  }
  const auto b = static_cast<uint16_t>(bucket_of(value));
  auto it = std::lower_bound(w_.begin(), w_.end(), b, [](const auto& e, uint16_t k) { return e.first < k; });
  if (it == w_.end() || it->first != b) it = w_.insert(it, {b, 0.0});
  it->second += scaled;
  total_ += scaled;
}

double DecayingHistogram::percentile(double q) const {
  if (total_ <= 0) return 0;
  double target = std::clamp(q, 0.0, 1.0) * total_;
  double acc = 0;
  for (const auto& [b, w] : w_) {
    acc += w;
    if (acc >= target && w > 0) return upper_bound(b);
  }
  return upper_bound(kBuckets - 1);
}

}  // namespace slo::colocation
