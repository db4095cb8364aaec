// The agent's Prometheus registry: prometheus-cpp's families plus the MetricTables attached to it, collected as one.
// Components with per-pod series take this type; the metrics server and tests see a plain prometheus::Registry.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <prometheus/registry.h>

namespace slo::agent {

class MetricsRegistry : public prometheus::Registry {
 public:
  // The registry does not own the collectable: it is collected while its owner keeps it alive.
  void attach(std::weak_ptr<const prometheus::Collectable> c);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::weak_ptr<const prometheus::Collectable>> attached_;
};

}  // namespace slo::agent
