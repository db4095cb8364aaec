#include "agent/kube/api_objects.h"

#include <cctype>
#include <ctime>

namespace slo::kube {

using nlohmann::json;

json node_batch_resources_patch(int64_t batch_cpu_millis, int64_t batch_memory_bytes) {
  // Quantities are strings in the API; batch-cpu counts millicores as a plain integer (Koordinator's convention).
  json res = {{"kubernetes.io/batch-cpu", std::to_string(batch_cpu_millis)},
              {"kubernetes.io/batch-memory", std::to_string(batch_memory_bytes)}};
  return json{{"status", {{"capacity", res}, {"allocatable", res}}}};
}

json node_annotations_patch(const std::map<std::string, std::optional<std::string>>& annotations) {
  json a = json::object();
  for (const auto& [k, v] : annotations) a[k] = v ? json(*v) : json(nullptr);
  return json{{"metadata", {{"annotations", a}}}};
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json pod_event(const EventSpec& e, std::chrono::system_clock::time_point now) {
  std::string ts = rfc3339(now);
  json ev = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", e.pod_name + "."}, {"namespace", e.namespace_}}},
      {"involvedObject",
       {{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", e.namespace_}, {"name", e.pod_name}}},
      {"reason", e.reason},
      {"message", e.message},
      {"type", e.warning ? "Warning" : "Normal"},
      {"source", {{"component", e.component}}},
      {"firstTimestamp", ts},
      {"lastTimestamp", ts},
      {"count", 1},
      {"reportingComponent", e.component},
      {"reportingInstance", e.node},
  };
  if (!e.pod_uid.empty()) ev["involvedObject"]["uid"] = e.pod_uid;
  if (!e.node.empty()) ev["source"]["host"] = e.node;
  if (!e.action.empty()) ev["action"] = e.action;
  return ev;
}

json pod_eviction(const std::string& ns, const std::string& name, std::optional<int64_t> grace_period_seconds) {
  json ev = {{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
  if (grace_period_seconds) ev["deleteOptions"] = {{"gracePeriodSeconds", *grace_period_seconds}};
  return ev;
}

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace slo::kube
