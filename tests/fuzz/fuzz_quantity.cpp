// Kubernetes quantities ("1500m", "2Gi", "1e3"): no overflow (UBSan watches), no negative result from a text
// without a minus sign.
#include <string_view>

#include "agent/model/quantity.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = slo::fuzz::as_text(data, size);
  bool minus = text.find('-') != std::string_view::npos;
  if (auto m = slo::model::parse_cpu_millis(text); m && !minus) SLO_FUZZ_CHECK(*m >= 0);
  if (auto b = slo::model::parse_bytes(text); b && !minus) SLO_FUZZ_CHECK(*b >= 0);
  return 0;
}
