// cpuset lists ("0-3,8"): besides not crashing, a parsed set must print canonically and re-parse to itself, since
// the executor compares and writes exactly that text.
#include "cgroups/cpu_set.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto set = slo::cg::CpuSet::parse(slo::fuzz::as_text(data, size));
  if (!set) return 0;
  auto text = set->to_string();
  auto again = slo::cg::CpuSet::parse(text);
  SLO_FUZZ_CHECK(again.has_value());
  SLO_FUZZ_CHECK(*again == *set);
  SLO_FUZZ_CHECK(again->to_string() == text);
  return 0;
}
