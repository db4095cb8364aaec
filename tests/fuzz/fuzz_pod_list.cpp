// kubelet /pods and --pods-file PodList JSON: malformed documents and hostile values (uids with "../", absurd
// quantities) must yield errors, never a crash or a pod whose uid could escape the cgroup tree.
#include <string>

#include "agent/model/pod.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = slo::model::parse_pod_list(slo::fuzz::as_text(data, size));
  for (const auto& p : r.pods) {
    SLO_FUZZ_CHECK(p.uid.find('/') == std::string::npos);
    SLO_FUZZ_CHECK(p.uid.find("..") == std::string::npos);
  }
  return 0;
}
