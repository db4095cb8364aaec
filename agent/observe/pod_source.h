// Where the agent learns its node's pods: the kubelet (/pods over HTTPS) in a cluster, a PodList file standalone.
// Sources are polled by the runtime on its event loop and may also ask for an early poll (new pod cgroup seen).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/model/pod.h"

namespace slo::agent {

struct PodFetch {
  bool ok = false;
  model::PodListParse pods;  // when ok
  std::string error;         // when !ok: one line, says what to do ("kubelet 401: token rejected, check RBAC …")
};

class PodSource {
 public:
  virtual ~PodSource() = default;
  virtual std::string_view name() const = 0;  // "file", "kubelet"
  // Fetches the current pod list. Blocking is allowed only up to the source's own timeout; the runtime calls this
  // from a worker so the event loop is not stalled. On failure the runtime keeps the last good list.
  virtual PodFetch fetch() = 0;
  // Next poll delay after a fetch (backoff on failure, configured interval otherwise).
  virtual std::chrono::milliseconds next_delay(bool last_ok) = 0;
  // True when the source has changed since the last fetch and should be fetched now (e.g. file mtime changed).
  virtual bool changed() { return false; }
};

}  // namespace slo::agent
