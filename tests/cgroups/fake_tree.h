// Synthetic cgroup trees in a TempDir: v1 (controllers separate, or cpu,cpuacct co-mounted with cpu/cpuacct links,
// optionally hybrid) and v2, with kubelet pod/container directories for both drivers and every runtime spelling.
#pragma once

#include <string>

#include "cgroups/kubelet_layout.h"
#include "tests/common/support.h"

namespace slo::test {

enum class FakeKind { v1_separate, v1_comounted, hybrid, v2 };

class FakeTree {
 public:
  FakeTree(const TempDir& tmp, FakeKind kind, std::string name = "cg");
  const std::string& root() const { return root_; }
  FakeKind kind() const { return kind_; }
  // Creates the cgroup (and missing parents) with the default knob/stat files of each controller.
  void add_cgroup(const std::string& rel) const;
  // Writes a file of a cgroup in the controller's directory ("cpu" → cpu/ or cpu,cpuacct/ on v1, unified on v2).
  void write(const std::string& controller, const std::string& rel, const std::string& file,
             const std::string& content) const;
  std::string read(const std::string& controller, const std::string& rel, const std::string& file) const;
  // Creates kubepods/… for a pod and one container; returns the container's relative path.
  std::string add_pod(cg::Driver d, cg::QosTier t, const std::string& uid, cg::Runtime r, const std::string& id) const;
  std::string controller_dir(const std::string& controller) const;  // absolute

 private:
  void default_files(const std::string& controller, const std::string& dir, bool top) const;
  const TempDir& tmp_;
  FakeKind kind_;
  std::string root_;
};

}  // namespace slo::test
