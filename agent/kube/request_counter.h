// Requests sent to the API server, per verb, so tests can assert the steady-state budget and the metrics helper
// can export sloagent_kube_requests_total{verb=…}. list and watch are GETs counted apart (a watch is long-lived).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace slo::kube {

enum class Verb { get, list, watch, create, patch, update, remove, count_ };

constexpr std::string_view to_string(Verb v) {
  switch (v) {
    case Verb::get: return "get";
    case Verb::list: return "list";
    case Verb::watch: return "watch";
    case Verb::create: return "create";
    case Verb::patch: return "patch";
    case Verb::update: return "update";
    case Verb::remove: return "delete";
    case Verb::count_: break;
  }
  return "?";
}

class RequestCounter {
 public:
  void add(Verb v) { n_[static_cast<size_t>(v)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t get(Verb v) const { return n_[static_cast<size_t>(v)].load(std::memory_order_relaxed); }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& x : n_) t += x.load(std::memory_order_relaxed);
    return t;
  }
  // Watch reconnects after a clean server-side timeout are expected traffic and kept out of the budget.
  void add_watch_timeout_reconnect() { timeout_reconnects_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t watch_timeout_reconnects() const { return timeout_reconnects_.load(std::memory_order_relaxed); }
  uint64_t budgeted_total() const { return total() - watch_timeout_reconnects(); }

 private:
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Verb::count_)> n_{};
  std::atomic<uint64_t> timeout_reconnects_{0};
};

}  // namespace slo::kube
