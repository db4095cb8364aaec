#include "agent/kube/cluster_actions_kube.h"

#include <boost/asio/co_spawn.hpp>

#include "agent/runtime/log.h"

namespace slo::kube {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {
constexpr auto kEventDedupWindow = std::chrono::minutes(10);
}

KubeClusterActions::KubeClusterActions(Client& client, std::string node, NodeReportPolicy policy, Clock clock)
    : client_(client), node_(std::move(node)), clock_(std::move(clock)), throttle_(policy) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

KubeClusterActions::Counts KubeClusterActions::counts() const {
  std::lock_guard lk(mu_);
  return counts_;
}

bool KubeClusterActions::evict(const agent::PodRef& pod, const std::string& reason) {
  std::string target = "/api/v1/namespaces/" + url_escape(pod.namespace_) + "/pods/" + url_escape(pod.name) +
                       "/eviction";
  std::string body = pod_eviction(pod.namespace_, pod.name, std::nullopt).dump();
  std::string who = pod.namespace_ + "/" + pod.name;
  log::info("kube", "evicting " + who + ": " + reason);
  asio::co_spawn(client_.io(), client_.async_call(Verb::create, http::verb::post, target, body, "application/json"),
                 [this, who](std::exception_ptr e, ApiResult r) {
                   std::lock_guard lk(mu_);
                   if (!e && r.ok) {
                     ++counts_.evictions_sent;
                     return;
                   }
                   ++counts_.evictions_failed;
                   log::warn("kube", "eviction of " + who + " failed: " + (e ? "internal error" : r.error));
                 });
  return true;
}

void KubeClusterActions::event(const agent::PodRef& pod, const std::string& type, const std::string& reason,
                               const std::string& message) {
  auto now = clock_();
  {
    std::lock_guard lk(mu_);
    std::string key = pod.namespace_ + "/" + pod.name + "\n" + type + "\n" + reason + "\n" + message;
    for (auto it = recent_events_.begin(); it != recent_events_.end();)
      it = now - it->second >= kEventDedupWindow ? recent_events_.erase(it) : std::next(it);
    if (!recent_events_.emplace(key, now).second) {
      ++counts_.events_deduplicated;
      return;
    }
  }
  EventSpec e;
  e.namespace_ = pod.namespace_;
  e.pod_name = pod.name;
  e.pod_uid = pod.uid;
  e.reason = reason;
  e.message = message;
  e.warning = type == "Warning";
  e.node = node_;
  std::string target = "/api/v1/namespaces/" + url_escape(pod.namespace_) + "/events";
  asio::co_spawn(client_.io(),
                 client_.async_call(Verb::create, http::verb::post, target,
                                    pod_event(e, std::chrono::system_clock::now()).dump(), "application/json"),
                 [this](std::exception_ptr ex, ApiResult r) {
                   std::lock_guard lk(mu_);
                   if (!ex && r.ok) {
                     ++counts_.events_sent;
                     return;
                   }
                   ++counts_.events_failed;
                   log::once(log::Level::warn, "kube", "event-failed:" + std::to_string(r.status),
                             "creating Events failed: " + (ex ? std::string("internal error") : r.error));
                 });
}

void KubeClusterActions::spawn_patch(std::string path, json patch, bool node_status, NodeReportThrottle::Values values,
                                     std::chrono::steady_clock::time_point now) {
  asio::co_spawn(client_.io(),
                 client_.async_call(Verb::patch, http::verb::patch, std::move(path), patch.dump(),
                                    "application/merge-patch+json"),
                 [this, node_status, values, now, patch](std::exception_ptr e, ApiResult r) {
                   std::lock_guard lk(mu_);
                   bool ok = !e && r.ok;
                   if (node_status) {
                     ++counts_.node_patches_completed;
                     if (ok) {
                       throttle_.updated(now, values);
                     } else {
                       ++counts_.node_patches_failed;
                     }
                   } else if (!ok) {
                     // Forget what we assumed was sent, so the next annotate_node() retries.
                     for (const auto& [k, v] : patch["metadata"]["annotations"].items()) annotations_sent_.erase(k);
                     ++counts_.annotation_patches_failed;
                   }
                   if (!ok)
                     log::warn("kube", "node " + node_ + (node_status ? " status" : " annotations") +
                                           " PATCH failed: " + (e ? std::string("internal error") : r.error));
                 });
}

void KubeClusterActions::publish_node_resources(const std::map<std::string, int64_t>& resources) {
  auto now = clock_();
  {
    std::lock_guard lk(mu_);
    auto d = throttle_.decide(now, resources);
    if (!NodeReportThrottle::sends(d)) {
      ++counts_.node_patches_skipped;
      return;
    }
    throttle_.attempted(now);
    ++counts_.node_patches_sent;
  }
  json res = json::object();
  for (const auto& [k, v] : resources) res[k] = std::to_string(v);
  spawn_patch("/api/v1/nodes/" + url_escape(node_) + "/status",
              json{{"status", {{"capacity", res}, {"allocatable", res}}}}, true, resources, now);
}

void KubeClusterActions::annotate_node(const std::string& key, const std::string& value) {
  {
    std::lock_guard lk(mu_);
    auto it = annotations_sent_.find(key);
    if (it != annotations_sent_.end() && it->second == value) return;
    annotations_sent_[key] = value;  // optimistic: a tick while the PATCH is in flight sends nothing more
    ++counts_.annotation_patches_sent;
  }
  spawn_patch("/api/v1/nodes/" + url_escape(node_), node_annotations_patch({{key, value}}), false, {}, clock_());
}

void KubeClusterActions::report_cgroups_status(const std::string& cr_name, const json& node_entry) {
  {
    std::lock_guard lk(mu_);
    auto it = cr_status_sent_.find(cr_name);
    if (it != cr_status_sent_.end() && it->second == node_entry) return;
    cr_status_sent_[cr_name] = node_entry;  // optimistic, like annotations; forgotten on failure
    ++counts_.cr_status_sent;
  }
  // Server-side apply with a field manager per node: status.nodes is a map-list keyed by node (see crd/cgroups.yaml),
  // so each agent owns its own entry and concurrent agents never conflict or overwrite each other.
  json body = {{"apiVersion", "resources.alibabacloud.com/v1alpha1"},
               {"kind", "Cgroups"},
               {"metadata", {{"name", cr_name}}},
               {"status", {{"nodes", json::array({node_entry})}}}};
  std::string target = "/apis/resources.alibabacloud.com/v1alpha1/cgroups/" + url_escape(cr_name) +
                       "/status?fieldManager=" + url_escape("sloagent-" + node_) + "&force=true";
  asio::co_spawn(client_.io(),
                 client_.async_call(Verb::patch, http::verb::patch, std::move(target), body.dump(),
                                    "application/apply-patch+yaml"),
                 [this, cr_name](std::exception_ptr e, ApiResult r) {
                   std::lock_guard lk(mu_);
                   if (!e && r.ok) return;
                   cr_status_sent_.erase(cr_name);
                   ++counts_.cr_status_failed;
                   if (r.status == 404) return;  // the CR was deleted meanwhile: nothing to report on
                   log::warn("kube", "Cgroups/" + cr_name + " status apply failed: " +
                                         (e ? std::string("internal error") : r.error));
                 });
}

}  // namespace slo::kube
