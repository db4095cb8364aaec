#include "agent/runtime/metrics_registry.h"

#include <algorithm>

namespace slo::agent {

void MetricsRegistry::attach(std::weak_ptr<const prometheus::Collectable> c) {
  std::lock_guard lk(mu_);
  attached_.push_back(std::move(c));
}

std::vector<prometheus::MetricFamily> MetricsRegistry::Collect() const {
  auto out = prometheus::Registry::Collect();
  std::vector<std::shared_ptr<const prometheus::Collectable>> live;
  {
    std::lock_guard lk(mu_);
    std::erase_if(attached_, [](const auto& w) { return w.expired(); });
    for (const auto& w : attached_)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  for (const auto& c : live) {  // outside the lock: a table takes its own
    auto fams = c->Collect();
    std::move(fams.begin(), fams.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace slo::agent
