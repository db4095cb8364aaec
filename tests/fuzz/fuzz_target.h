// One parser fuzz target: libFuzzer's entry point. Each fuzz_*.cpp defines it once; the same file links either with
// libFuzzer (clang, -Dfuzz=enabled, scripts/fuzz.sh) or with replay_main.cpp (every build, suite 'unit'), which
// runs the seeds and deterministic mutations of them so CI exercises every target without clang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace slo::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the fuzzer checks beyond "no crash": a violation must stop the run loudly under both drivers.
[[noreturn]] void property_failed(const char* what);

}  // namespace slo::fuzz

#define SLO_FUZZ_CHECK(cond) \
  do {                       \
    if (!(cond)) ::slo::fuzz::property_failed(#cond); \
  } while (0)
