// The agent: one Boost.Asio io_context thread drives ticks of observe → decide → act.
//
//  observe  pods from the PodSource (fetched on a worker thread, on change / interval / new pod cgroup seen by
//           inotify), resolved to cgroups; in a tick, cpu.stat of the cgroups that the controllers due in it marked
//           hot; every stat of every pod and QoS tier cgroup each stats interval (kept-open files); node stats from
//           --proc-root.
//  decide   each enabled controller whose period is due, in registry order, one Blackboard per tick.
//  act      the Executor diff-writes the intent sets (journaled, ordered, one owner per knob).
//
// The API servers read a PublishedState (RuntimeQueries) that the loop swaps in after ticks.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "agent/act/executor.h"
#include "agent/act/journal.h"
#include "agent/observe/inotify_watch.h"
#include "agent/observe/node_stats.h"
#include "agent/observe/pod_source.h"
#include "agent/observe/stats_collector.h"
#include "agent/policy/scheduled_policy.h"
#include "agent/runtime/cluster_actions.h"
#include "agent/runtime/config.h"
#include "agent/runtime/controller.h"
#include "agent/runtime/runtime_metrics.h"
#include "agent/runtime/metrics_registry.h"
#include "agent/runtime/runtime_queries.h"
#include "agent/runtime/snapshot.h"

namespace prometheus {
class Registry;
}

namespace slo::agent {

struct AgentOptions {
  std::string config_path, policy_dir;
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string resctrl_root = "/sys/fs/resctrl";
  std::string sysfs_root = "/sys";
  std::string proc_root = "/proc";
  std::string state_dir = "/var/lib/sloagent";
  ConfigOverrides overrides;
  std::unique_ptr<PodSource> pod_source;  // file source (--pods-file) or a registered one (kubelet)
  // Evictions, events, node status, CR status: the Kubernetes client in a cluster; null = standalone (recording).
  std::shared_ptr<ClusterActions> cluster;
  bool handle_signals = true;             // SIGTERM/SIGINT stop, SIGHUP reloads
  bool watch = true;                      // inotify on config, policy dir, pods file, kubepods tree
  // Wall clock for schedule windows (null = system_clock::now); tests move it across a window boundary.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
};

class Agent {
 public:
  explicit Agent(AgentOptions opts);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Loads the config, probes the host and the controllers, opens the journal. A message on fatal errors.
  std::optional<std::string> init();
  // Runs the loop on the calling thread until stop. Returns the exit code.
  int run();
  // Thread-safe: stop the loop (after putting every changed knob back when restore is true).
  void request_stop(bool restore);

  // Synchronous steps for tests and benchmarks (the loop must not be running).
  bool sync_pods_now();       // fetch + resolve on this thread; false when the fetch failed
  // One observe → decide → act. all_due: every controller decides; force_slow: read every stat (a slow tick).
  void tick(bool all_due, bool force_slow = false);
  bool reload_config();       // true when a new config was adopted

  // Thread-safe (called from informer threads): the complete current set of one kind of cluster object. Applied on
  // the loop. ColocationPolicy objects merge with --policy-dir's; an invalid set is rejected with a message naming
  // the object, and the last good set keeps running. Cgroups objects go to the Snapshot for the CR controller.
  enum class ClusterKind { cgroups, colocation_policy };
  void set_cluster_objects(ClusterKind kind, std::vector<nlohmann::json> objects);
  ClusterActions& cluster() { return *cluster_; }
  // Thread-safe: the labels of this node's Node object (in a cluster). They replace agent.nodeLabels for node
  // selectors (nodeStrategies, ColocationPolicy) from now on, across config reloads; the policy is re-resolved.
  void set_node_labels(std::map<std::string, std::string> labels);

  const Snapshot& snapshot() const { return snap_; }
  Executor& executor() { return *executor_; }
  const HostInfo& host() const { return host_; }
  std::shared_ptr<MetricsRegistry> registry() const { return registry_; }
  std::shared_ptr<RuntimeQueries> queries() const { return queries_; }
  boost::asio::io_context& io() { return io_; }
  uint64_t stat_preads() const { return stats_ ? stats_->preads() : 0; }
  size_t enabled_controllers() const;
  std::string last_config_error() const { return config_error_; }
  // The policy the controllers were last configured with: the effective policy with the active schedule windows
  // applied (agent/policy/scheduled_policy.h), and the names of those windows.
  const nlohmann::json& applied_policy() const { return applied_policy_; }
  const std::vector<std::string>& active_windows() const { return active_windows_; }

 private:
  struct Ctl {
    std::string name;
    std::unique_ptr<Controller> impl;
    Capability cap;
    bool enabled = false;  // probe supported and enabled by config
    std::chrono::steady_clock::time_point next_due{};
    double last_tick_seconds = 0;
    HotCgroups hot;  // its last decide's marks (Blackboard::hot_cgroups)
    // hot resolved to the stats it fills (key of stats_index_, stats); rebuilt when hot changes or after resolve().
    struct HotRead {
      const std::string* cgroup;
      ContainerStats* stats;
      StatsCollector::Handle files;
    };
    std::vector<HotRead> hot_reads;
    uint64_t hot_index_gen = 0;
    prometheus::Histogram* hist = nullptr;
  };

  void apply_settings();
  void adopt_cluster_objects(ClusterKind kind, std::vector<nlohmann::json> objects);
  void refresh_cgroups_crs();
  void configure_controllers(bool initial);
  nlohmann::json scheduled_policy();  // also arms the boundary timer
  void reconfigure_if_boundary_passed();
  std::chrono::system_clock::time_point wall_now() const;
  void on_fetched(PodFetch f);
  void start_fetch();
  void schedule_fetch(std::chrono::milliseconds delay);
  void resolve();
  void resolve_hot(Ctl& c);  // c.hot_reads from c.hot and stats_index_
  void watch_kubepods();
  void watch_inputs();
  void schedule_tick();
  void schedule_reload();
  void observe(bool slow, std::chrono::steady_clock::time_point now, bool all_due);
  void publish();
  std::string pod_key_of_cgroup(const std::string& cgroup) const;
  nlohmann::json restore_now();
  nlohmann::json pods_json() const;  // every pod with its held knobs (loop thread)
  // Runs f on the event loop and waits for it (at most `timeout`); inline when called on the loop or when no loop
  // runs (tests drive ticks by hand). {"error": ...} when the loop is stopping or did not answer in time.
  nlohmann::json on_loop(std::function<nlohmann::json()> f, std::chrono::seconds timeout);

  AgentOptions opts_;
  boost::asio::io_context io_;
  std::shared_ptr<MetricsRegistry> registry_;
  std::unique_ptr<RuntimeMetrics> metrics_;
  std::shared_ptr<ClusterActions> cluster_;
  std::vector<PolicyCr> cluster_policies_;           // last good ColocationPolicy set from the API server
  std::vector<nlohmann::json> cluster_cgroups_crs_;  // Cgroups CRs from the API server
  std::unique_ptr<cg::CgroupFs> fs_;
  HostInfo host_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<StatsCollector> stats_;
  std::unique_ptr<NodeStatsReader> node_reader_;
  std::vector<Ctl> ctls_;
  Snapshot snap_;
  std::unordered_map<std::string, ContainerStats*> stats_index_;  // cgroup → its stats in snap_.pods / snap_.tiers
  // What the slow tick reads, resolved once per pod-set change (keys of stats_index_, their stats and kept-open
  // files): cpu of every cgroup in stats_index_, memory of pods and tiers. Hashing ~100-char paths for each of them
  // every stats interval was ≈ 4 % of the daemon.
  struct SlowRead {
    const std::string* cgroup;
    ContainerStats* stats;
    StatsCollector::Handle files;
  };
  std::vector<SlowRead> cpu_reads_, memory_reads_;
  uint64_t stats_index_gen_ = 1;  // bumped whenever stats_index_ is rebuilt (invalidates Ctl::hot_reads)
  std::map<std::string, std::string> pod_cgroups_;                // pod cgroup → pod key
  std::vector<model::Pod> pods_raw_;
  bool pods_synced_ = false;
  bool force_all_ = true;
  bool trim_pending_ = false;  // free heap to return to the kernel after the next publish (memory_policy.h)
  std::chrono::steady_clock::time_point next_trim_{};

  LoadedConfig config_;
  std::string config_error_;
  std::chrono::system_clock::time_point config_loaded_at_{};
  std::string config_fingerprint_;
  std::optional<policy::ScheduledPolicy> schedule_;
  std::optional<std::chrono::system_clock::time_point> next_boundary_;
  std::vector<std::string> active_windows_;
  nlohmann::json applied_policy_ = nlohmann::json::object();

  std::shared_ptr<RuntimeQueries> queries_;
  std::unique_ptr<InotifyWatch> inotify_;
  std::map<std::string, int> kube_watches_;  // absolute dir → wd
  boost::asio::steady_timer tick_timer_, fetch_timer_, reload_timer_, sync_timer_;
  boost::asio::system_timer boundary_timer_;  // wakes the loop at the next schedule window boundary
  boost::asio::thread_pool worker_{1};
  bool fetch_in_flight_ = false, fetch_again_ = false, reload_pending_ = false, sync_pending_ = false;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::chrono::steady_clock::time_point next_slow_{}, next_reassert_{}, next_publish_{}, started_{};
  std::chrono::steady_clock::time_point next_tick_{};
  bool ready_ = false, stopping_ = false;
  std::atomic<bool> loop_running_{false};  // run() is inside io_.run(): other threads post to it
};

}  // namespace slo::agent
