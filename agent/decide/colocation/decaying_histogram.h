// A fixed-size histogram whose old samples lose weight exponentially (half-life), for peak estimates of pod usage
// that follow the recent past without keeping raw samples: memory per pod is bounded (at most kBuckets entries).
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>
#include <cstddef>

namespace slo::colocation {

class DecayingHistogram {
 public:
  static constexpr size_t kBuckets = 128;

  // Buckets grow geometrically from `first_bucket` by `ratio` (relative error ≈ ratio − 1), the last one open.
  DecayingHistogram(double first_bucket, double ratio, std::chrono::seconds half_life);

  void add(double value, double seconds_since_epoch, double weight = 1.0);
  // Smallest bucket upper bound below which `q` (0..1) of the weight lies; 0 when empty.
  double percentile(double q) const;
  double total_weight() const { return total_; }
  bool empty() const { return total_ <= 0; }

 private:
  size_t bucket_of(double v) const;
  double upper_bound(size_t b) const;

  double first_, ratio_, half_life_s_;
  // Weights are stored relative to reference_time_ (later samples get larger weights) and renormalised when they
  // grow large, which avoids touching every bucket on every sample.
  double reference_time_ = -1;
  // Only the buckets that hold weight, sorted by bucket: a pod's usage touches a dozen of the 128 (±50 % around its
  // level at ratio 1.1), and a dense array was 1 kB per histogram, two per LS pod (0.5 MB at 250 LS pods).
  std::vector<std::pair<uint16_t, double>> w_;
  double total_ = 0;
};

}  // namespace slo::colocation
