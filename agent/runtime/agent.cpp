#include "agent/runtime/agent.h"
#include "agent/runtime/memory_policy.h"

#include <sys/inotify.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>

#include <boost/asio/post.hpp>
#include <prometheus/registry.h>

#include "agent/observe/file_pod_source.h"
#include "agent/observe/pod_resolver.h"
#include "agent/runtime/document.h"
#include "agent/runtime/log.h"
#include "slo_config.h"

namespace slo::agent {
namespace {

constexpr std::string_view kLog = "runtime";
using Clock = std::chrono::steady_clock;

// Collects one controller's intents for the executor. In the steady state a controller states exactly what it
// stated last tick, in the same order: the sink then only compares each intent with the previous sequence (no
// KnobRef copies, no map) and the executor gets submit_unchanged(). The first difference switches to collecting a
// new sequence.
class CollectingSink final : public IntentSink {
 public:
  CollectingSink(const std::string& controller, const IntentSequence& last) : controller_(controller), last_(last) {}
  void set(const cg::KnobRef& ref, const cg::KnobValue& value, const std::string& reason) override {
    if (!diverged_ && pos_ < last_.size()) {
      const auto& [prev_ref, prev] = last_[pos_];
      if (prev_ref == ref && prev.reason == reason && cg::values_equal(prev.value, value)) {
        ++pos_;
        return;
      }
    }
    if (ref.cgroup.empty() || ref.cgroup == "/" || !cg::is_safe_relative(ref.cgroup)) {
      log::once(log::Level::warn, kLog, "badref:" + controller_ + ":" + ref.cgroup,
                controller_ + " asked for a knob on an empty, root or unsafe cgroup path '" + ref.cgroup +
                    "': ignored");
      return;
    }
    diverge();
    seq_.emplace_back(ref, Intent{value, reason});
  }
  bool unchanged() const { return !diverged_ && pos_ == last_.size(); }
  IntentSequence take() {
    diverge();
    return std::move(seq_);
  }

 private:
  void diverge() {
    if (diverged_) return;
    diverged_ = true;
    seq_.assign(last_.begin(), last_.begin() + static_cast<std::ptrdiff_t>(pos_));
  }
  const std::string& controller_;
  const IntentSequence& last_;
  size_t pos_ = 0;
  bool diverged_ = false;
  IntentSequence seq_;
};

std::string fingerprint(const std::string& config_path, const std::string& policy_dir) {
  std::string fp;
  std::string err;
  if (!config_path.empty()) fp += read_text_file(config_path, err).value_or("<unreadable>");
  if (!policy_dir.empty()) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(policy_dir, ec)) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      fp += "\n--" + f + "\n";
      fp += read_text_file(f, err).value_or("");
    }
  }
  return std::to_string(std::hash<std::string>{}(fp)) + ":" + std::to_string(fp.size());
}

std::string dirname_of(const std::string& p) {
  auto d = std::filesystem::path(p).parent_path().string();
  return d.empty() ? "." : d;
}

}  // namespace

Agent::Agent(AgentOptions opts)
    : opts_(std::move(opts)),
      registry_(std::make_shared<MetricsRegistry>()),
      tick_timer_(io_),
      fetch_timer_(io_),
      reload_timer_(io_),
      sync_timer_(io_),
      boundary_timer_(io_) {
  queries_ = std::make_shared<RuntimeQueries>(
      [this] { return on_loop([this] { return pods_json(); }, std::chrono::seconds(10)); },
      [this] { return restore_now(); });
  cluster_ = opts_.cluster ? opts_.cluster : std::make_shared<RecordingClusterActions>();
}

Agent::~Agent() {
  worker_.join();
  inotify_.reset();
}

size_t Agent::enabled_controllers() const {
  return static_cast<size_t>(std::count_if(ctls_.begin(), ctls_.end(), [](const Ctl& c) { return c.enabled; }));
}

std::optional<std::string> Agent::init() {
  started_ = Clock::now();
  metrics_ = std::make_unique<RuntimeMetrics>(*registry_);

  std::string err;
  auto cfg = load_config(opts_.config_path, opts_.policy_dir, opts_.overrides, err);
  if (!cfg) {
    metrics_->config_reload(false);
    return "config: " + err;
  }
  config_ = std::move(*cfg);
  config_loaded_at_ = std::chrono::system_clock::now();
  config_fingerprint_ = fingerprint(opts_.config_path, opts_.policy_dir);
  metrics_->config_reload(true);
  log::set_level(config_.doc.agent.log_level);
  refresh_cgroups_crs();

  auto fs = cg::CgroupFs::open(opts_.cgroup_root);
  if (!fs.ok()) return "cgroup root " + opts_.cgroup_root + ": " + fs.status.describe();
  fs_ = std::make_unique<cg::CgroupFs>(std::move(fs.value));

  const auto& a = config_.doc.agent;
  host_.node_name = a.node_name;
  host_.node_labels = effective_node_labels(a);
  host_.cgroup_root = opts_.cgroup_root;
  host_.resctrl_root = opts_.resctrl_root;
  host_.sysfs_root = opts_.sysfs_root;
  host_.proc_root = opts_.proc_root;
  host_.state_dir = opts_.state_dir;
  host_.mode = fs_->mode();
  host_.layout = cg::KubeletLayout::detect(*fs_, a.kubepods_parent);
  host_.kernel_burst = fs_->supports(cg::Knob::cpu_burst);
  std::error_code ec;
  host_.bpf_available = std::filesystem::exists(opts_.sysfs_root + "/kernel/btf/vmlinux", ec);
  host_.kubelet_cpu_manager_state = "/var/lib/kubelet/cpu_manager_state";
  if (auto topo = model::Topology::read(opts_.sysfs_root); topo.ok())
    host_.topology = std::move(topo.value);
  else
    log::warn(kLog, "CPU topology from " + opts_.sysfs_root + " unavailable: " + topo.status.describe());
  log::info(kLog, "cgroup " + std::string(cg::to_string(host_.mode)) + " at " + opts_.cgroup_root + ", kubepods " +
                      (host_.layout ? host_.layout->kubepods + " (" + std::string(cg::to_string(host_.layout->driver)) +
                                          " driver)"
                                    : std::string("not found yet under '") + a.kubepods_parent + "'") +
                      ", kernel burst " + (host_.kernel_burst ? "yes" : "no"));

  journal_ = std::make_unique<Journal>(opts_.state_dir);
  if (!journal_->lock(err)) return err;
  auto lr = journal_->load();
  if (!lr.ok) return lr.message;
  if (lr.quarantined)
    log::warn(kLog, lr.message);
  else
    log::info(kLog, lr.message);
  executor_ = std::make_unique<Executor>(*fs_, *journal_, registry_.get());
  snap_.knobs = executor_.get();
  snap_.host = &host_;
  stats_ = std::make_unique<StatsCollector>(*fs_);
  node_reader_ = std::make_unique<NodeStatsReader>(opts_.proc_root);
  if (!node_reader_->ok()) log::warn(kLog, "node stats from " + opts_.proc_root + " unavailable: " + node_reader_->error());
  snap_.node.cpu_capacity_cores = static_cast<double>(host_.topology.online.size());

  ControllerContext ctx{host_, *registry_, cluster_.get()};
  for (const auto& reg : controller_registry()) {
    Ctl c;
    c.name = reg.name;
    c.impl = reg.make();
    c.cap = c.impl->probe(host_);
    if (!c.cap.supported) {
      log::info(kLog, "controller " + c.name + " off: " + c.cap.reason);
    } else {
      c.impl->init(ctx);
      if (!c.cap.reason.empty()) log::info(kLog, "controller " + c.name + ": " + c.cap.reason);
    }
    c.hist = &metrics_->controller_tick(c.name);
    ctls_.push_back(std::move(c));
  }
  configure_controllers(true);
  if (!opts_.pod_source) log::warn(kLog, "no pod source (--pods-file or kubelet): the agent sees no pods");
  return std::nullopt;
}

std::chrono::system_clock::time_point Agent::wall_now() const {
  return opts_.wall_clock ? opts_.wall_clock() : std::chrono::system_clock::now();
}

// Schedule windows: the controllers get the effective policy with the windows active now applied. Re-run after
// every (re)load and at every window boundary — the boundary timer wakes the loop there, and each tick checks too
// (a wall-clock step or a long agent.tickMs must not skip a window).
nlohmann::json Agent::scheduled_policy() {
  auto now = wall_now();
  std::string err;
  schedule_ = policy::ScheduledPolicy::parse(config_.effective.policy, zoneinfo_dir_of(config_.doc.agent), &err);
  if (!schedule_) {  // checked when loaded: only a time zone file that vanished since gets here
    log::once(log::Level::error, kLog, "schedule:" + err, "schedule windows ignored: " + err);
    auto base = config_.effective.policy;
    base.erase("schedule");
    base.erase("timeZone");
    schedule_ = policy::ScheduledPolicy::parse(base, "", &err);
  }
  auto active = schedule_->active(now);
  if (schedule_->has_windows() && active != active_windows_) {
    std::string names;
    for (const auto& w : active) names += (names.empty() ? "" : ", ") + w;
    log::info(kLog, "schedule windows active (" + schedule_->time_zone() + "): " + (names.empty() ? "none" : names));
  }
  active_windows_ = std::move(active);
  next_boundary_ = schedule_->next_boundary(now);
  boundary_timer_.cancel();
  if (next_boundary_ && !stopping_) {
    // On the system clock; an injected test clock is re-checked when it fires, so an early wake-up is harmless.
    boundary_timer_.expires_at(*next_boundary_ + std::chrono::milliseconds(1));
    boundary_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) reconfigure_if_boundary_passed();
    });
  }
  applied_policy_ = schedule_->at(now);
  return applied_policy_;
}

void Agent::reconfigure_if_boundary_passed() {
  if (!next_boundary_ || wall_now() < *next_boundary_) return;
  configure_controllers(false);
  publish();
}

void Agent::configure_controllers(bool initial) {
  const auto& a = config_.doc.agent;
  const nlohmann::json policy = scheduled_policy();
  for (auto& c : ctls_) {
    bool want = c.cap.supported && a.controller_enabled(c.name);
    if (want) {
      if (auto e = c.impl->configure(policy)) {
        log::error(kLog, "controller " + c.name + " rejected a policy its fresh instance accepted: " + *e +
                             " (controller switched off)");
        want = false;
      }
    }
    if (c.enabled && !want) {
      executor_->withdraw(c.name);
      c.hot = HotCgroups{};  // fresh: a re-enabled controller's first marks count as changed
      c.hot_index_gen = 0;
      log::info(kLog, "controller " + c.name + " disabled by config: its knobs go back to their originals");
    } else if (!c.enabled && want && !initial) {
      log::info(kLog, "controller " + c.name + " enabled by config");
    }
    c.enabled = want;
  }
  std::string list;
  for (const auto& c : ctls_)
    if (c.enabled) list += (list.empty() ? "" : ", ") + c.name;
  if (initial) log::info(kLog, "controllers on: " + (list.empty() ? std::string("none") : list));
  force_all_ = true;
}

void Agent::refresh_cgroups_crs() {
  snap_.cgroups_crs = config_.cgroups_crs;
  snap_.cgroups_crs.insert(snap_.cgroups_crs.end(), cluster_cgroups_crs_.begin(), cluster_cgroups_crs_.end());
}

void Agent::set_cluster_objects(ClusterKind kind, std::vector<nlohmann::json> objects) {
  boost::asio::post(io_, [this, kind, objs = std::move(objects)]() mutable {
    if (!stopping_) adopt_cluster_objects(kind, std::move(objs));
  });
}

void Agent::adopt_cluster_objects(ClusterKind kind, std::vector<nlohmann::json> objects) {
  if (kind == ClusterKind::cgroups) {
    cluster_cgroups_crs_ = std::move(objects);
    refresh_cgroups_crs();
    return;
  }
  std::vector<PolicyCr> crs;
  std::string err;
  for (const auto& o : objects) {
    ConfigError ce;
    auto cr = parse_policy_cr(o, "", ce);
    if (!cr) {
      err = ce.what();
      break;
    }
    crs.push_back(std::move(*cr));
  }
  std::optional<EffectivePolicy> eff;
  if (err.empty()) {
    auto all = config_.crs;
    all.insert(all.end(), crs.begin(), crs.end());
    eff = effective_policy_for(config_.doc, all, err);
  }
  if (!eff) {
    config_error_ = "cluster ColocationPolicy: " + err;
    metrics_->config_reload(false);
    log::error(kLog, "ColocationPolicy update rejected: " + err + "; the last good policy keeps running");
    publish();
    return;
  }
  cluster_policies_ = std::move(crs);
  config_.effective = std::move(*eff);
  config_error_.clear();
  config_loaded_at_ = std::chrono::system_clock::now();
  metrics_->config_reload(true);
  configure_controllers(false);
  std::string applied;
  for (const auto& s : config_.effective.applied) applied += (applied.empty() ? "" : ", ") + s;
  log::info(kLog, "ColocationPolicy objects from the API server applied (" + applied + ")");
  publish();
}

void Agent::set_node_labels(std::map<std::string, std::string> labels) {
  boost::asio::post(io_, [this, labels = std::move(labels)]() mutable {
    if (stopping_ || opts_.overrides.node_labels == labels) return;
    opts_.overrides.node_labels = labels;  // kept for reloads (load_config applies the overrides)
    config_.doc.agent.node_labels = std::move(labels);
    apply_settings();
    auto all = config_.crs;
    all.insert(all.end(), cluster_policies_.begin(), cluster_policies_.end());
    std::string err;
    auto eff = effective_policy_for(config_.doc, all, err);
    if (!eff) {
      log::error(kLog, "policy for the new node labels rejected: " + err + "; the last good policy keeps running");
      return;
    }
    config_.effective = std::move(*eff);
    configure_controllers(false);
    std::string applied;
    for (const auto& s : config_.effective.applied) applied += (applied.empty() ? "" : ", ") + s;
    log::info(kLog, "node labels from the API server (" + std::to_string(host_.node_labels.size()) +
                        "): policy " + applied);
    publish();
  });
}

void Agent::apply_settings() {
  const auto& a = config_.doc.agent;
  log::set_level(a.log_level);
  host_.node_name = a.node_name;
  host_.node_labels = effective_node_labels(a);
}

bool Agent::reload_config() {
  auto fp = fingerprint(opts_.config_path, opts_.policy_dir);
  if (fp == config_fingerprint_) return false;
  std::string err;
  auto cfg = load_config(opts_.config_path, opts_.policy_dir, opts_.overrides, err, cluster_policies_);
  if (!cfg) {
    config_fingerprint_ = fp;  // do not re-log the same bad file on every event
    config_error_ = err;
    metrics_->config_reload(false);
    log::error(kLog, "new config rejected: " + err + "; the last good config keeps running");
    publish();
    return false;
  }
  bool parent_changed = cfg->doc.agent.kubepods_parent != config_.doc.agent.kubepods_parent;
  config_ = std::move(*cfg);
  config_fingerprint_ = fp;
  config_error_.clear();
  config_loaded_at_ = std::chrono::system_clock::now();
  metrics_->config_reload(true);
  apply_settings();
  refresh_cgroups_crs();
  configure_controllers(false);
  if (parent_changed) {
    host_.layout = cg::KubeletLayout::detect(*fs_, config_.doc.agent.kubepods_parent);
    resolve();
  }
  std::string applied;
  for (const auto& s : config_.effective.applied) applied += (applied.empty() ? "" : ", ") + s;
  log::info(kLog, "config reloaded from " + config_.source + " (" + applied + ")");
  publish();
  return true;
}

// ---- pods ---------------------------------------------------------------------------------------------------------

bool Agent::sync_pods_now() {
  if (!opts_.pod_source) return false;
  auto f = opts_.pod_source->fetch();
  bool ok = f.ok;
  on_fetched(std::move(f));
  return ok;
}

void Agent::start_fetch() {
  if (!opts_.pod_source || stopping_) return;
  if (fetch_in_flight_) {
    fetch_again_ = true;
    return;
  }
  fetch_in_flight_ = true;
  boost::asio::post(worker_, [this] {
    auto f = opts_.pod_source->fetch();
    boost::asio::post(io_, [this, f = std::move(f)]() mutable {
      fetch_in_flight_ = false;
      on_fetched(std::move(f));
      if (fetch_again_) {
        fetch_again_ = false;
        start_fetch();
      }
    });
  });
}

void Agent::schedule_fetch(std::chrono::milliseconds delay) {
  fetch_timer_.expires_after(delay);
  fetch_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    auto* file = dynamic_cast<FilePodSource*>(opts_.pod_source.get());
    if (file && pods_synced_ && !file->changed()) {
      schedule_fetch(file->next_delay(true));
      return;
    }
    start_fetch();
  });
}

void Agent::on_fetched(PodFetch f) {
  if (!f.ok) {
    log::once(log::Level::warn, kLog, "fetch:" + f.error, "pod source " + std::string(opts_.pod_source->name()) +
                                                              ": " + f.error + " (keeping the last good pod list)");
  } else {
    for (const auto& e : f.pods.errors) log::once(log::Level::warn, kLog, "pod:" + e, "pod skipped: " + e);
    const auto& node = config_.doc.agent.node_name;
    pods_raw_.clear();
    for (auto& p : f.pods.pods)
      if (node.empty() || p.node_name.empty() || p.node_name == node) pods_raw_.push_back(std::move(p));
    resolve();
    pods_synced_ = true;
  }
  if (opts_.pod_source && io_.get_executor().running_in_this_thread())
    schedule_fetch(opts_.pod_source->next_delay(f.ok));
}

void Agent::resolve() {
  if (!host_.layout) {
    host_.layout = cg::KubeletLayout::detect(*fs_, config_.doc.agent.kubepods_parent);
    if (host_.layout) {
      log::info(kLog, "kubepods found at " + host_.layout->kubepods);
      force_all_ = true;
    }
  }
  ResolveCounts counts;
  size_t before = snap_.pods.size();
  snap_.pods = resolve_pods(*fs_, host_.layout ? &*host_.layout : nullptr, pods_raw_, snap_.pods, &counts);
  stats_index_.clear();
  ++stats_index_gen_;
  snap_.pods_generation = stats_index_gen_;
  pod_cgroups_.clear();
  // Memory is read for pods and tiers only: every consumer (node usage, reclaimed, BE suppression and eviction, the
  // pod working-set metric) uses the pod level; containers' memory files were two preads each per slow tick for
  // nobody.
  memory_reads_.clear();
  std::set<std::string> live;
  auto known = std::make_shared<std::set<std::string>>();
  for (auto& p : snap_.pods) {
    known->insert(p.pod.key());
    if (!p.cgroup.empty()) {
      auto it = stats_index_.insert_or_assign(p.cgroup, &p.stats).first;  // keys stay put on rehash
      memory_reads_.push_back({&it->first, &p.stats, nullptr});
      pod_cgroups_[p.cgroup] = p.pod.key();
      live.insert(p.cgroup);
    }
    for (auto& c : p.containers)
      if (!c.cgroup.empty()) {
        stats_index_[c.cgroup] = &c.stats;
        live.insert(c.cgroup);
      }
  }
  // The QoS tier cgroups, for consumers that need a tier's total (BE suppression: LS usage = kubepods − besteffort)
  // without reading every pod each tick. Their counters survive pod-set changes (the paths depend on the layout
  // only): consumers compute rates between reads and would otherwise lose an interval at every pod change.
  if (host_.layout) {
    const auto& l = *host_.layout;
    const std::pair<std::string, ContainerStats*> tiers[] = {{l.kubepods, &snap_.tiers.kubepods},
                                                             {l.tier_dir(cg::QosTier::burstable), &snap_.tiers.burstable},
                                                             {l.tier_dir(cg::QosTier::besteffort), &snap_.tiers.besteffort}};
    for (const auto& [cgroup, stats] : tiers) {
      if (cgroup.empty() || stats_index_.count(cgroup)) continue;
      auto it = stats_index_.emplace(cgroup, stats).first;
      memory_reads_.push_back({&it->first, stats, nullptr});
      live.insert(cgroup);
    }
  }
  stats_->retain(live);  // handles are taken after it: retain() drops the files of gone cgroups
  cpu_reads_.clear();
  for (const auto& [cgroup, stats] : stats_index_) cpu_reads_.push_back({&cgroup, stats, stats_->handle(cgroup)});
  for (auto& r : memory_reads_) r.files = stats_->handle(*r.cgroup);
  queries_->set_known_pods(known);
  queries_->forget_pods_except([&](const std::string& k) { return known->count(k) > 0; });
  if (before != snap_.pods.size() || counts.pods != counts.pods_found)
    log::debug(kLog, "pods: " + std::to_string(counts.pods) + " (" + std::to_string(counts.pods_found) +
                         " with cgroups), containers: " + std::to_string(counts.containers) + " (" +
                         std::to_string(counts.containers_found) + " with cgroups)");
  force_all_ = true;  // level-triggered: every controller sees the new pod set at the next tick
  next_publish_ = {};  // and readers see the new pod set after it
  trim_pending_ = true;  // the pod list's parse and the old pod set are garbage after that tick
  if (inotify_) watch_kubepods();
}

// ---- watches ------------------------------------------------------------------------------------------------------

void Agent::watch_kubepods() {
  if (!host_.layout || !inotify_) return;
  auto dir = fs_->hierarchy().controller_dir(cg::Controller::cpu);
  if (!dir) dir = fs_->hierarchy().controller_dir(cg::Controller::cpuacct);
  if (!dir) return;
  std::set<std::string> want;
  const auto& l = *host_.layout;
  want.insert(*dir + "/" + l.kubepods);
  want.insert(*dir + "/" + l.tier_dir(cg::QosTier::burstable));
  want.insert(*dir + "/" + l.tier_dir(cg::QosTier::besteffort));
  for (const auto& p : snap_.pods)
    if (!p.cgroup.empty()) want.insert(*dir + "/" + p.cgroup);
  for (auto it = kube_watches_.begin(); it != kube_watches_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    inotify_->remove(it->second);
    it = kube_watches_.erase(it);
  }
  for (const auto& w : want) {
    if (kube_watches_.count(w)) continue;
    int wd = inotify_->add(w, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_ONLYDIR, [this](const std::string&, uint32_t mask) {
      if (!(mask & IN_ISDIR)) return;
      // A pod or container cgroup appeared or left: sync soon (debounced; kubelet creates several dirs at once).
      if (sync_pending_) return;
      sync_pending_ = true;
      sync_timer_.expires_after(std::chrono::milliseconds(20));
      sync_timer_.async_wait([this](const boost::system::error_code& ec) {
        sync_pending_ = false;
        if (ec || stopping_) return;
        start_fetch();
      });
    });
    if (wd >= 0) kube_watches_[w] = wd;
  }
}

void Agent::watch_inputs() {
  auto on_config = [this](const std::string&, uint32_t) { schedule_reload(); };
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB;
  if (!opts_.config_path.empty()) {
    // The directory, not the file: a ConfigMap update swaps the ..data symlink and never writes the file.
    auto base = std::filesystem::path(opts_.config_path).filename().string();
    inotify_->add(dirname_of(opts_.config_path), mask, [this, base](const std::string& name, uint32_t) {
      if (name == base || name == "..data" || name.empty()) schedule_reload();
    });
  }
  if (!opts_.policy_dir.empty()) inotify_->add(opts_.policy_dir, mask, on_config);
  if (auto* file = dynamic_cast<FilePodSource*>(opts_.pod_source.get())) {
    auto base = std::filesystem::path(file->path()).filename().string();
    inotify_->add(dirname_of(file->path()), mask, [this, base](const std::string& name, uint32_t) {
      if (name == base || name == "..data") start_fetch();
    });
  }
}

void Agent::schedule_reload() {
  if (reload_pending_) return;
  reload_pending_ = true;
  reload_timer_.expires_after(std::chrono::milliseconds(100));  // editors write in several steps
  reload_timer_.async_wait([this](const boost::system::error_code& ec) {
    reload_pending_ = false;
    if (!ec && !stopping_) reload_config();
  });
}

// ---- tick ---------------------------------------------------------------------------------------------------------

void Agent::observe(bool slow, Clock::time_point now, bool all_due) {
  if (slow) {
    if (node_reader_->ok()) node_reader_->read(snap_.node);
    for (const auto& r : cpu_reads_) stats_->read_cpu(r.files, *r.cgroup, *r.stats, now, StatsCollector::Usage::always);
    for (const auto& r : memory_reads_) stats_->read_memory(r.files, *r.cgroup, *r.stats);
    return;
  }
  // A fast tick reads the hot cgroups of the controllers that decide in it, nothing else: a controller due every
  // 5 s does not make its hot set read every 100 ms. Its deltas span from its previous decide to this one.
  for (auto& c : ctls_) {
    if (!c.enabled || (!all_due && now < c.next_due)) continue;
    if (c.hot_index_gen != stats_index_gen_) resolve_hot(c);
    for (const auto& h : c.hot_reads)
      if (h.stats->cpu_stat_at != now)  // else read this tick already
        stats_->read_cpu(h.files, *h.cgroup, *h.stats, now, StatsCollector::Usage::when_active);
  }
}

void Agent::resolve_hot(Ctl& c) {
  c.hot_reads.clear();
  for (const auto& cg : c.hot) {
    auto it = stats_index_.find(cg);
    if (it != stats_index_.end() && !cg.empty())  // unknown paths: ignored
      c.hot_reads.push_back({&it->first, it->second, stats_->handle(cg)});
  }
  c.hot_index_gen = stats_index_gen_;
}

std::string Agent::pod_key_of_cgroup(const std::string& cgroup) const {
  // The pod cgroup is a prefix of its containers' cgroups.
  auto it = pod_cgroups_.upper_bound(cgroup);
  while (it != pod_cgroups_.begin()) {
    --it;
    const auto& pc = it->first;
    if (cgroup == pc || (cgroup.size() > pc.size() && cgroup.compare(0, pc.size(), pc) == 0 && cgroup[pc.size()] == '/'))
      return it->second;
    if (cgroup.compare(0, 1, pc, 0, 1) != 0) break;
  }
  return {};
}

void Agent::tick(bool all_due, bool force_slow) {
  auto now = Clock::now();
  ++snap_.tick;
  snap_.now = now;
  snap_.wall = wall_now();
  reconfigure_if_boundary_passed();
  if (!pods_synced_ && opts_.pod_source) return;  // decide on a real pod list only (no restore/re-apply flap)
  all_due = all_due || force_all_;
  force_all_ = false;

  bool slow = force_slow || now >= next_slow_;
  if (slow) next_slow_ = now + config_.doc.agent.stats_interval;
  auto t0 = Clock::now();
  observe(slow, now, all_due);
  auto t1 = Clock::now();
  metrics_->phase("observe").Observe(std::chrono::duration<double>(t1 - t0).count());

  Blackboard board;
  for (auto& c : ctls_) {
    if (!c.enabled) continue;
    try {
      c.impl->on_tick(snap_, board);
    } catch (const std::exception& e) {
      log::once(log::Level::error, kLog, "throw-on-tick:" + c.name, "controller " + c.name + " threw: " + e.what());
    }
  }
  for (auto& c : ctls_) {
    if (!c.enabled || (!all_due && now < c.next_due)) continue;
    CollectingSink sink(c.name, executor_->last_sequence(c.name));
    std::swap(board.hot_cgroups, c.hot);
    board.hot_cgroups.clear();
    auto s = Clock::now();
    try {
      c.impl->decide(snap_, board, sink);
      if (sink.unchanged())
        executor_->submit_unchanged(c.name);
      else
        executor_->submit_sequence(c.name, sink.take());
    } catch (const std::exception& e) {
      // Keep its previous claims: a throwing controller must not make the executor restore everything it holds.
      log::once(log::Level::error, kLog, "throw:" + c.name, "controller " + c.name + " threw: " + e.what());
    }
    double d = std::chrono::duration<double>(Clock::now() - s).count();
    c.hist->Observe(d);
    c.last_tick_seconds = d;
    std::swap(board.hot_cgroups, c.hot);
    if (c.hot.changed()) c.hot_index_gen = 0;  // resolved again before the next read
    c.next_due = now + std::max(c.impl->period(), std::chrono::milliseconds(1));
  }
  auto t2 = Clock::now();
  metrics_->phase("decide").Observe(std::chrono::duration<double>(t2 - t1).count());

  auto decisions = executor_->apply();
  if (now >= next_reassert_) {
    if (next_reassert_ != Clock::time_point{}) executor_->reassert();
    next_reassert_ = now + config_.doc.agent.reassert;
  }
  metrics_->phase("act").Observe(std::chrono::duration<double>(Clock::now() - t2).count());
  for (const auto& d : decisions) {
    std::string line = fs_->file_of(d.ref) + " " + (d.from ? cg::value_to_string(*d.from) : "?") + " -> " +
                       cg::value_to_string(d.to) + " [" + d.result + "] " +
                       (d.controller.empty() ? "" : d.controller + ": ") + d.reason;
    if (d.result.rfind("error", 0) == 0 || d.result.rfind("rejected", 0) == 0)
      log::debug("executor", line);  // the failure itself was logged once by the executor
    else
      log::info("executor", line);
    auto key = pod_key_of_cgroup(d.ref.cgroup);
    if (!key.empty()) {
      auto t = std::chrono::duration<double>(d.time.time_since_epoch()).count();
      queries_->record(key, {t, d.controller, d.ref.knob, d.ref.cgroup,
                             d.from ? cg::value_to_string(*d.from) : "", cg::value_to_string(d.to), d.reason,
                             d.result});
    }
  }
  if (slow) metrics_->update_usage(snap_);
  // Publishing builds the whole API state (every pod, every held knob): a fifth of the daemon's steady-state CPU
  // when done every second. Knob changes are shown within a stats interval (≥ 1 s), pod-set and config changes at
  // once (they publish themselves); otherwise the state (uptime, tick times) is refreshed every 10 intervals.
  const auto interval = std::max(config_.doc.agent.stats_interval, std::chrono::milliseconds(1000));
  if (!decisions.empty()) next_publish_ = std::min(next_publish_, now + interval);
  if (!ready_ || now >= next_publish_) {
    ready_ = true;
    next_publish_ = now + 10 * interval;
    publish();
  }
  if (trim_pending_ && now >= next_trim_) {
    trim_pending_ = false;
    next_trim_ = now + 10 * interval;  // a churning pod set costs one trim per 10 s, not one per change
    release_free_memory();
  }
}

void Agent::schedule_tick() {
  auto now = Clock::now();
  next_tick_ = next_tick_ == Clock::time_point{} ? now : next_tick_ + config_.doc.agent.tick;
  if (next_tick_ < now) next_tick_ = now;  // behind (suspend, slow disk): do not burst to catch up
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    tick(false);
    schedule_tick();
  });
}

// ---- publish / queries --------------------------------------------------------------------------------------------

void Agent::publish() {
  auto st = std::make_shared<PublishedState>();
  st->ready = ready_;
  nlohmann::json ctls = nlohmann::json::array();
  for (const auto& c : ctls_) {
    ctls.push_back({{"name", c.name},
                    {"enabled", c.enabled},
                    {"reason", c.cap.supported ? (c.enabled ? c.cap.reason : std::string("disabled by config"))
                                               : c.cap.reason},
                    {"period_ms", c.impl->period().count()},
                    {"last_tick_seconds", c.last_tick_seconds}});
    if (!c.enabled) continue;
    std::string n = c.name;
    std::transform(n.begin(), n.end(), n.begin(), ::tolower);
    if (n.find("cpuset") != std::string::npos) st->pools = c.impl->status();
    if (n.find("rdt") != std::string::npos) st->rdt = c.impl->status();
    if (n.find("reclaim") != std::string::npos) st->reclaimed = c.impl->status();
  }
  st->status = {{"version", SLO_VERSION},
                {"uptime_seconds", std::chrono::duration<double>(Clock::now() - started_).count()},
                {"node", host_.node_name},
                {"mode", std::string(cg::to_string(host_.mode))},
                {"driver", host_.layout ? std::string(cg::to_string(host_.layout->driver)) : std::string()},
                {"kubepods", host_.layout ? host_.layout->kubepods : std::string()},
                {"capabilities",
                 {{"kernel_burst", host_.kernel_burst},
                  {"bpf", host_.bpf_available},
                  {"cpus", host_.topology.online.size()}}},
                {"controllers", ctls},
                {"ready", ready_},
                {"paused", executor_ ? executor_->paused() : false},
                {"pods", snap_.pods.size()},
                {"knobs_held", executor_ ? executor_->held_count() : 0},
                {"journal_entries", journal_ ? journal_->entries().size() : 0}};

  auto loaded = std::chrono::duration<double>(config_loaded_at_.time_since_epoch()).count();
  st->config = {{"effective",
                 {{"agent", settings_to_json(config_.doc.agent)},
                  {"policy", applied_policy_},
                  {"schedule", schedule_ ? schedule_->describe(wall_now()) : nlohmann::json(nullptr)}}},
                {"applied", config_.effective.applied},
                {"source", config_.source},
                {"loaded_at", loaded},
                {"last_error", config_error_}};
  queries_->publish(std::move(st));
}

nlohmann::json Agent::pods_json() const {
  // Knobs per cgroup. Keys point into the executor's own knob map, alive and unchanged while this runs.
  std::unordered_map<std::string_view, nlohmann::json> by_cgroup;
  if (executor_) {
    executor_->for_each_held([&](const cg::KnobRef& ref, const std::string& owner, const Intent& in) {
      auto cur = executor_->current(ref);
      auto orig = executor_->original(ref);
      std::string name(cg::to_string(ref.knob));
      if (!ref.device.empty()) name += "[" + ref.device + "]";
      auto& knobs = by_cgroup[ref.cgroup];
      if (knobs.is_null()) knobs = nlohmann::json::object();
      knobs[name] = {{"current", cur ? cg::value_to_string(*cur) : ""},
                     {"original", orig ? cg::value_to_string(*orig) : ""},
                     {"owner", owner},
                     {"reason", in.reason}};
    });
  }
  auto knobs_of = [&](const std::string& cgroup) {
    auto it = cgroup.empty() ? by_cgroup.end() : by_cgroup.find(cgroup);
    return it == by_cgroup.end() ? nlohmann::json::object() : std::move(it->second);
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : snap_.pods) {
    nlohmann::json cs = nlohmann::json::array();
    for (const auto& c : p.containers)
      cs.push_back({{"name", c.spec.name}, {"cgroup", c.cgroup.str()}, {"knobs", knobs_of(c.cgroup)}});
    out.push_back({{"namespace", p.pod.namespace_},
                   {"name", p.pod.name},
                   {"uid", p.pod.uid},
                   {"qos", model::to_string(p.pod.qos)},
                   {"kube_qos", model::to_string(p.pod.kube_qos)},
                   {"cgroup", p.cgroup.str()},
                   {"knobs", knobs_of(p.cgroup)},
                   {"containers", std::move(cs)}});
  }
  return out;
}

nlohmann::json Agent::on_loop(std::function<nlohmann::json()> f, std::chrono::seconds timeout) {
  if (!loop_running_ || io_.get_executor().running_in_this_thread()) return f();
  // Shared with the posted handler: when the wait times out the caller returns, the handler may still run later.
  auto p = std::make_shared<std::promise<nlohmann::json>>();
  auto fut = p->get_future();
  boost::asio::post(io_, [this, p, f = std::move(f)] {
    p->set_value(stopping_ ? nlohmann::json{{"error", "agent is stopping"}} : f());
  });
  if (fut.wait_for(timeout) != std::future_status::ready) return {{"error", "timed out waiting for the event loop"}};
  return fut.get();
}

nlohmann::json Agent::restore_now() {
  const bool from_api = loop_running_ && !io_.get_executor().running_in_this_thread();
  return on_loop(
      [this, from_api] {
        auto r = executor_->restore_all();
        executor_->set_paused(true);
        if (from_api) {
          log::warn(kLog, "restore requested over the API: every changed knob is back; actuation paused until restart");
          publish();
        }
        return r;
      },
      std::chrono::seconds(30));
}

// ---- run / stop ---------------------------------------------------------------------------------------------------

void Agent::request_stop(bool restore) {
  boost::asio::post(io_, [this, restore] {
    if (stopping_) return;
    if (restore) {
      auto r = executor_->restore_all();
      log::info(kLog, "restore on exit: " + r.dump());
    }
    stopping_ = true;
    boost::system::error_code ec;
    tick_timer_.cancel();
    fetch_timer_.cancel();
    reload_timer_.cancel();
    sync_timer_.cancel();
    boundary_timer_.cancel();
    if (signals_) signals_->cancel(ec);
    inotify_.reset();
    io_.stop();
  });
}

int Agent::run() {
  if (opts_.watch) {
    inotify_ = std::make_unique<InotifyWatch>(io_);
    if (!inotify_->ok()) {
      log::warn(kLog, "inotify unavailable: config, pods file and kubepods changes are seen on the poll interval only");
      inotify_.reset();
    } else {
      watch_inputs();
      watch_kubepods();
    }
  }
  // Outlives io_.run(): the handler re-arms itself through this reference.
  std::function<void(const boost::system::error_code&, int)> on_signal;
  if (opts_.handle_signals) {
    signals_ = std::make_unique<boost::asio::signal_set>(io_, SIGTERM, SIGINT, SIGHUP);
    on_signal = [this, &on_signal](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log::info(kLog, "SIGHUP: reloading config");
        config_fingerprint_.clear();
        reload_config();
        signals_->async_wait(on_signal);
        return;
      }
      log::info(kLog, std::string("signal ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping" +
                          (config_.doc.agent.restore_on_exit ? " (restoring every changed knob first)" : ""));
      request_stop(config_.doc.agent.restore_on_exit);
    };
    signals_->async_wait(on_signal);
  }
  start_fetch();
  schedule_tick();
  loop_running_ = true;
  io_.run();
  loop_running_ = false;
  return 0;
}

}  // namespace slo::agent
