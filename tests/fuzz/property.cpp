#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_target.h"

namespace slo::fuzz {

void property_failed(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();  // libFuzzer saves the input as a crash; the replay driver prints the input's origin first
}

}  // namespace slo::fuzz
