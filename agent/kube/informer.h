// List + watch of one resource path with a local cache keyed by namespace/name (or name), like client-go's
// informer. Runs as a coroutine on the client's io_context and calls back on that thread.
//
// Protocol: LIST (selectors) → resourceVersion → WATCH from it with allowWatchBookmarks and a jittered
// timeoutSeconds. A clean end (server timeout) re-watches at once from the last resourceVersion; a dropped stream
// re-watches from it too; 410 Gone, as an HTTP status or as an ERROR event, relists, and the relist is diffed
// against the cache so that every change made while the watch was gone still reaches the callback (ADDED,
// MODIFIED, or DELETED for objects that vanished). 401/403 and other failures: one clear line, jittered backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/kube/backoff.h"
#include "agent/kube/client.h"

namespace slo::kube {

enum class EventType { added, modified, deleted, bookmark };
std::string_view to_string(EventType t);

struct WatchEvent {
  EventType type;
  std::string key;                 // "ns/name" or "name"; empty for bookmarks
  const nlohmann::json* object;    // the object (for deleted: its last state); valid during the callback only
  std::string resource_version;
};

struct InformerOptions {
  std::string path;            // "/api/v1/pods", "/apis/resources.alibabacloud.com/v1alpha1/cgroups"
  std::string field_selector;  // "spec.nodeName=node-1"
  std::string label_selector;
  std::chrono::seconds watch_timeout_min{300};  // timeoutSeconds drawn from [min, max] per watch
  std::chrono::seconds watch_timeout_max{600};
  std::chrono::seconds idle_slack{30};  // silence tolerated beyond timeoutSeconds before the stream counts as dead
  Backoff::Options backoff{};
  std::string name;  // for logs ("pods", "cgroups")
};

struct InformerStats {
  uint64_t lists = 0;
  uint64_t watches = 0;
  uint64_t relists_after_gone = 0;  // 410 as HTTP status or ERROR event
  uint64_t watch_timeouts = 0;      // clean server-side ends
  uint64_t watch_drops = 0;         // streams cut before their end
  uint64_t errors = 0;              // failed requests (auth, transport, status)
  uint64_t events = 0;              // delivered ADDED/MODIFIED/DELETED
  uint64_t bookmarks = 0;
  std::string last_error;
};

class Informer {
 public:
  using Callback = std::function<void(const WatchEvent&)>;
  Informer(Client& client, InformerOptions opts, Callback cb);
  ~Informer();  // stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void start();
  // Stops the loop (safe from any thread); no callback runs after stop() returned on the io thread, or after the
  // posted stop ran when called from elsewhere.
  void stop();

  // Thread-safe reads of the cache and progress.
  bool synced() const;
  bool wait_synced(std::chrono::milliseconds timeout) const;
  std::map<std::string, nlohmann::json> snapshot() const;
  std::optional<nlohmann::json> get(const std::string& key) const;
  std::string resource_version() const;
  InformerStats stats() const;

  std::string list_target() const;
  std::string watch_target(const std::string& rv, std::chrono::seconds timeout) const;

 private:
  struct State;
  std::shared_ptr<State> st_;
};

}  // namespace slo::kube
