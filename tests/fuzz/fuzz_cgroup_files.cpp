// Every cgroup file parser on the same bytes: they all read kernel text that a hostile or buggy kernel module, a
// truncated read or a fixture could make arbitrary.
#include "cgroups/stats.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = slo::fuzz::as_text(data, size);
  if (auto s = slo::cg::parse_cpu_stat(text)) SLO_FUZZ_CHECK(s->nr_throttled <= UINT64_MAX);
  (void)slo::cg::parse_flat_keyed(text);
  (void)slo::cg::parse_int_file(text, true);
  (void)slo::cg::parse_int_file(text, false);
  (void)slo::cg::parse_psi(text);
  (void)slo::cg::parse_io_stat(text);
  (void)slo::cg::parse_blkio_throttle(text);
  (void)slo::cg::parse_io_max(text);
  (void)slo::cg::parse_proc_cgroup(text);
  return 0;
}
