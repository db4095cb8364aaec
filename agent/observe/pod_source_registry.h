// Pod sources other than the built-in file source (the kubelet HTTPS source) register here with the command-line
// options they take, so `sloagent run` accepts those options and builds the source without knowing its class.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/observe/pod_source.h"

namespace slo::agent {

struct PodSourceOptions {
  std::string node_name;
  std::map<std::string, std::string> values;  // "--kubelet-ca" → "/path" (only options the source declared)
  std::vector<std::string> flags;             // "--kubelet-insecure-tls" when given
  bool has_flag(const std::string& f) const {
    for (const auto& x : flags)
      if (x == f) return true;
    return false;
  }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
};

struct PodSourceRegistration {
  std::string name;                        // "kubelet"
  std::vector<std::string> value_options;  // "--kubelet-url", "--kubelet-token-file", …
  std::vector<std::string> flag_options;   // "--kubelet-insecure-tls"
  std::string usage;                       // lines appended to `sloagent run --help`
  // nullptr with error set when the options are invalid.
  std::function<std::unique_ptr<PodSource>(const PodSourceOptions&, std::string& error)> make;
};

std::vector<PodSourceRegistration>& pod_source_registry();
struct PodSourceRegistrar {
  explicit PodSourceRegistrar(PodSourceRegistration r);
};

}  // namespace slo::agent
