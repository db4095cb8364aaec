// The agent's config and policy CRs (YAML or JSON, multi-document): every document is run through the config parser,
// the ColocationPolicy parser and policy resolution. Bad input must come back as an error naming a field.
#include <map>
#include <string>

#include "agent/runtime/config.h"
#include "agent/runtime/document.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto docs = slo::agent::parse_documents(slo::fuzz::as_text(data, size), error);
  if (!docs) {
    SLO_FUZZ_CHECK(!error.empty());
    return 0;
  }
  static const std::vector<std::string> known = {"CpuBurst", "Cpuset", "BeSuppression"};
  for (const auto& d : *docs) {
    slo::agent::ConfigError err;
    auto cfg = slo::agent::parse_config(d, known, err);
    if (!cfg) {
      SLO_FUZZ_CHECK(!err.what().empty());
      continue;
    }
    std::vector<slo::agent::PolicyCr> crs;
    if (auto cr = slo::agent::parse_policy_cr(d, "fuzz", err)) crs.push_back(std::move(*cr));
    (void)slo::agent::resolve_policy(*cfg, {{"kubernetes.io/hostname", "n"}}, crs, err);
  }
  return 0;
}
