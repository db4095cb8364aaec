// Where the cpuset controller keeps its pins across agent restarts: a small JSON checkpoint in
// HostInfo::state_dir ("cpuset-pins.json"), written atomically (temp file, fsync, rename, fsync dir) with a
// checksum. A corrupt file is moved aside (".corrupt") and the controller starts from scratch, as kubelet's CPU
// manager should but does not (it crash-loops).
//
// Why a file and not the cgroups' current cpusets: the executor only knows values of knobs that are claimed, so on
// the first tick after a restart there is nothing to rebuild from; and a graceful stop restores original cpusets.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "agent/decide/cpuset/pool_planner.h"

namespace slo::cpuset {

struct StoredPin {
  std::string uid;  // a recreated pod with the same name is a different pod
  Pinned pin;
};
using PinMap = std::map<std::string, StoredPin>;

class PinStore {
 public:
  explicit PinStore(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  std::string path() const { return dir_ + "/cpuset-pins.json"; }
  // Missing file → empty map; corrupt file → moved aside, empty map, `warning` set.
  PinMap load(std::string& warning) const;
  // Empty string on success, else an error naming the file and errno.
  std::string save(const PinMap& pins) const;

  static std::string encode(const PinMap& pins);
  static std::optional<PinMap> decode(const std::string& text);

 private:
  std::string dir_;
};

}  // namespace slo::cpuset
