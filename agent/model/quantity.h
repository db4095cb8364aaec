// Kubernetes resource quantities ("2000m", "1.5", "5Gi", "1e3", "128974848") as integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace slo::model {

// CPU in millicores (rounded up, as kubelet does). nullopt for malformed or negative input.
std::optional<int64_t> parse_cpu_millis(std::string_view q);
// Bytes (binary Ki/Mi/Gi/Ti/Pi/Ei and decimal k/M/G/T/P/E suffixes, exponents, fractions rounded up).
std::optional<int64_t> parse_bytes(std::string_view q);

}  // namespace slo::model
