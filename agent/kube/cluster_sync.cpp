#include "agent/kube/cluster_sync.h"

#include <atomic>

#include <boost/asio/post.hpp>

#include "agent/runtime/log.h"

namespace slo::kube {

namespace asio = boost::asio;
using nlohmann::json;

json significant_part(const json& obj) {
  json out = obj;
  if (!out.is_object()) return out;
  out.erase("status");
  if (auto m = out.find("metadata"); m != out.end() && m->is_object()) {
    m->erase("resourceVersion");
    m->erase("managedFields");
  }
  return out;
}

std::map<std::string, std::string> node_labels_of(const json& node) {
  std::map<std::string, std::string> out;
  auto m = node.find("metadata");
  if (m == node.end() || !m->is_object()) return out;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return out;
  for (const auto& [k, v] : l->items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

struct ClusterSync::State : std::enable_shared_from_this<ClusterSync::State> {
  Client& client;
  ClusterSyncOptions opts;
  ClusterSyncSinks sinks;
  std::atomic<bool> stopped{false};
  std::unique_ptr<Informer> cgroups, policies, node;

  // io thread only
  bool pending[3] = {false, false, false};  // cgroups, policies, node
  std::optional<std::vector<json>> delivered[2];
  std::optional<std::map<std::string, std::string>> labels;

  State(Client& c, ClusterSyncOptions o, ClusterSyncSinks s) : client(c), opts(std::move(o)), sinks(std::move(s)) {}

  InformerOptions informer_options(std::string path, std::string name) const {
    InformerOptions io;
    io.path = std::move(path);
    io.name = std::move(name);
    io.watch_timeout_min = opts.watch_timeout_min;
    io.watch_timeout_max = opts.watch_timeout_max;
    io.backoff = opts.backoff;
    return io;
  }

  // Coalesces a burst of events into one flush on the io thread.
  void schedule(int slot) {
    if (pending[slot]) return;
    pending[slot] = true;
    std::weak_ptr<State> weak = shared_from_this();
    asio::post(client.io(), [weak, slot] {
      if (auto self = weak.lock()) self->flush(slot);
    });
  }

  void flush(int slot) {
    pending[slot] = false;
    if (stopped) return;
    if (slot == 2) {
      auto n = node->get(opts.node);
      if (!n) return;  // deleted or not there yet: keep the labels we had
      auto l = node_labels_of(*n);
      if (labels && *labels == l) return;
      labels = l;
      if (sinks.node_labels) sinks.node_labels(std::move(l));
      return;
    }
    Informer& inf = slot == 0 ? *cgroups : *policies;
    std::vector<json> objects, projection;
    for (auto& kv : inf.snapshot()) {
      projection.push_back(significant_part(kv.second));
      objects.push_back(std::move(kv.second));
    }
    if (delivered[slot] && *delivered[slot] == projection) return;
    delivered[slot] = std::move(projection);
    log::info("kube", std::string(slot == 0 ? "Cgroups" : "ColocationPolicy") + " objects: " +
                          std::to_string(objects.size()));
    if (sinks.objects)
      sinks.objects(slot == 0 ? ClusterObjectKind::cgroups : ClusterObjectKind::colocation_policy, std::move(objects));
  }

  Informer::Callback callback(int slot) {
    // The informer outlives no State (State owns it), so a raw pointer is safe here.
    return [this, slot](const WatchEvent& ev) {
      if (ev.type != EventType::bookmark) schedule(slot);
    };
  }
};

ClusterSync::ClusterSync(Client& client, ClusterSyncOptions opts, ClusterSyncSinks sinks)
    : st_(std::make_shared<State>(client, std::move(opts), std::move(sinks))) {
  auto& s = *st_;
  if (s.opts.watch_cgroups)
    s.cgroups = std::make_unique<Informer>(client, s.informer_options(kCgroupsPath, "cgroups"), s.callback(0));
  if (s.opts.watch_policies)
    s.policies = std::make_unique<Informer>(client, s.informer_options(kColocationPolicyPath, "colocationpolicies"),
                                            s.callback(1));
  if (s.opts.watch_node && !s.opts.node.empty()) {
    auto io = s.informer_options(kNodesPath, "node");
    io.field_selector = "metadata.name=" + s.opts.node;
    s.node = std::make_unique<Informer>(client, io, s.callback(2));
  }
}

ClusterSync::~ClusterSync() { stop(); }

void ClusterSync::start() {
  for (auto* i : {st_->cgroups.get(), st_->policies.get(), st_->node.get()})
    if (i) i->start();
}

void ClusterSync::stop() {
  st_->stopped = true;
  // Each Informer::stop runs on the io thread and waits for it: a flush that was running has finished by then.
  for (auto* i : {st_->cgroups.get(), st_->policies.get(), st_->node.get()})
    if (i) i->stop();
}

bool ClusterSync::wait_synced(std::chrono::milliseconds timeout) const {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (auto* i : {st_->cgroups.get(), st_->policies.get(), st_->node.get()}) {
    if (!i) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !i->wait_synced(left)) return false;
  }
  return true;
}

std::vector<std::pair<std::string, InformerStats>> ClusterSync::stats() const {
  std::vector<std::pair<std::string, InformerStats>> out;
  if (st_->cgroups) out.emplace_back("cgroups", st_->cgroups->stats());
  if (st_->policies) out.emplace_back("colocationpolicies", st_->policies->stats());
  if (st_->node) out.emplace_back("node", st_->node->stats());
  return out;
}

}  // namespace slo::kube
