// Applies a batch of desired knob values across a pod and its containers in an order the kernel accepts
// (GUIDE §2), skipping values that already hold, and reports one outcome per knob.
//
// Phases: (1) burst lowered; then period changes, parents first; (2) cpu quota raised, parents before children (-1 counts as infinite);
// (3) cpu quota lowered, children before parents; (4) burst raised, clamped to the final quota where the kernel
// requires burst <= quota; cpuset: (5) widened top-down with the union of current and desired, (6) final values
// bottom-up; then every other knob (shares, memory, io) in depth order.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "cgroups/knob.h"

namespace slo::cg {

struct WriteOutcome {
  KnobWrite write;                  // what was asked (after clamping: see `clamped`)
  std::optional<KnobValue> before;  // value read before writing (nullopt when unreadable)
  Status status;                    // ok / gone / error with file, value and errno
  bool changed = false;             // a write(2) happened and succeeded
  bool clamped = false;             // the asked value was lowered to what the kernel accepts (burst > quota)
};

class OrderedWriter {
 public:
  // Called after every write(2) attempt, in the order they happen (intermediate cpuset unions included): lets tests
  // and the journal see the real sequence.
  using Trace = std::function<void(const KnobRef& ref, const KnobValue& written, const Status& status)>;

  explicit OrderedWriter(const CgroupFs& fs) : fs_(fs) {}
  OrderedWriter(const CgroupFs& fs, Trace trace) : fs_(fs), trace_(std::move(trace)) {}
  // Outcomes are returned in the order of the input batch.
  std::vector<WriteOutcome> apply(const std::vector<KnobWrite>& batch) const;

 private:
  const CgroupFs& fs_;
  Trace trace_;
};

}  // namespace slo::cg
