// resctrl schemata: parse, render, re-parse; rendering what we parsed must not lose a resource or a domain.
#include "rdt/schemata.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto first = slo::rdt::parse_schemata(slo::fuzz::as_text(data, size));
  auto text = slo::rdt::render_schemata(first.schemata);
  auto second = slo::rdt::parse_schemata(text);
  SLO_FUZZ_CHECK(second.errors.empty());
  SLO_FUZZ_CHECK(second.schemata.resources.size() == first.schemata.resources.size());
  return 0;
}
