#include "cli/render.h"

#include <cctype>
#include <cmath>
#include <ctime>

#include "cli/table.h"

namespace slo::cli {
using nlohmann::json;

namespace {

constexpr size_t kClip = 48;  // default cell width limit for free-form text; -o wide shows everything

const json& at(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string str(const json& j, const char* key) { return cell_text(at(j, key)); }

std::string yes_no(const json& j) { return j.is_boolean() ? (j.get<bool>() ? "yes" : "no") : cell_text(j); }

std::string upper(std::string s) {
  for (auto& c : s) c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Times in explain are either text (already formatted by the agent) or Unix seconds.
std::string time_text(const json& t) {
  if (!t.is_number()) return cell_text(t);
  double secs = t.get<double>();
  std::time_t whole = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  int ms = static_cast<int>(std::lround((secs - static_cast<double>(whole)) * 1000)) % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, ms);
  return out;
}

std::string seconds_text(const json& j) {
  if (!j.is_number()) return cell_text(j);
  double s = j.get<double>();
  char buf[32];
  if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fµs", s * 1e6);
  else if (s < 1)
    std::snprintf(buf, sizeof buf, "%.1fms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

std::string period_text(const json& j) {
  if (!j.is_number()) return cell_text(j);
  double ms = j.get<double>();
  if (ms >= 1000 && std::fmod(ms, 1000) == 0) return std::to_string(static_cast<long long>(ms / 1000)) + "s";
  return cell_text(j) + "ms";
}

// An original value the agent recorded: null or "" mean it never changed the knob.
bool known(const json& v) { return !v.is_null() && !(v.is_string() && v.get<std::string>().empty()); }

bool is_scalar(const json& j) { return !j.is_object() && !j.is_array(); }

bool is_table(const json& j) {
  if (!j.is_array() || j.empty()) return false;
  for (const auto& e : j)
    if (!e.is_object()) return false;
  return true;
}

// Columns of an array of objects: "name" first when present, then the others in key order.
std::vector<std::string> columns_of(const json& rows) {
  std::vector<std::string> cols;
  auto add = [&](const std::string& k) {
    for (const auto& c : cols)
      if (c == k) return;
    cols.push_back(k);
  };
  for (const auto& r : rows)
    if (r.contains("name")) add("name");
  for (const auto& r : rows)
    for (const auto& [k, v] : r.items()) add(k);
  return cols;
}

std::string render_rows(const json& rows, Output o) {
  auto cols = columns_of(rows);
  std::vector<std::string> headers;
  for (const auto& c : cols) headers.push_back(upper(c));
  Table t(headers);
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& c : cols) cells.push_back(clip(str(r, c.c_str()), o == Output::wide ? 0 : kClip));
    t.add(cells);
  }
  return t.render();
}

// Flattens nested objects of a document into "a.b value" pairs; tables are collected separately.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& pairs,
             std::vector<std::pair<std::string, const json*>>& tables, Output o) {
  for (const auto& [k, v] : j.items()) {
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && !v.empty()) {
      flatten(v, key, pairs, tables, o);
    } else if (is_table(v)) {
      tables.emplace_back(key, &v);
    } else if (v.is_array()) {
      std::string joined;
      for (const auto& e : v) joined += (joined.empty() ? "" : ",") + cell_text(e);
      pairs.emplace_back(key, clip(joined.empty() ? "-" : joined, o == Output::wide ? 0 : 2 * kClip));
    } else {
      pairs.emplace_back(key, clip(cell_text(v), o == Output::wide ? 0 : 2 * kClip));
    }
  }
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t w = 0;
  for (const auto& [k, v] : pairs) w = std::max(w, k.size() + 1);
  std::string out;
  for (const auto& [k, v] : pairs) out += k + ":" + std::string(w - k.size() - 1 + 3, ' ') + v + "\n";
  return out;
}

}  // namespace

std::string to_pretty(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

std::string cell_text(const json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0)) return "-";
  auto s = static_cast<long long>(seconds);
  long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  if (d > 0) return std::to_string(d) + "d" + (h ? std::to_string(h) + "h" : "");
  if (h > 0) return std::to_string(h) + "h" + (m ? std::to_string(m) + "m" : "");
  if (m > 0) return std::to_string(m) + "m" + (sec ? std::to_string(sec) + "s" : "");
  return std::to_string(sec) + "s";
}

std::string render_status(const json& s, Output o) {
  if (o == Output::json) return to_pretty(s);
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"version", str(s, "version")},
      {"node", str(s, "node")},
      {"uptime", at(s, "uptime_seconds").is_number() ? format_duration(at(s, "uptime_seconds").get<double>()) : "-"},
      {"cgroups", str(s, "mode") + " (driver " + str(s, "driver") + ")"},
      {"ready", yes_no(at(s, "ready"))},
      {"actuation", at(s, "paused") == true ? "PAUSED (after `sloctl restore`; restart the agent to resume)" : "on"},
      {"pods", str(s, "pods")},
      {"knobs held", str(s, "knobs_held") + " (journaled for restore: " + str(s, "journal_entries") + ")"},
  };
  std::vector<std::pair<std::string, const json*>> tables;
  const json& caps = at(s, "capabilities");
  if (caps.is_object()) flatten(caps, "capabilities", pairs, tables, o);
  std::string out = key_values(pairs);
  for (const auto& [name, rows] : tables) out += "\n" + upper(name) + "\n" + render_rows(*rows, o);
  Table t = o == Output::wide ? Table({"CONTROLLER", "ENABLED", "PERIOD", "LAST TICK", "REASON"})
                              : Table({"CONTROLLER", "ENABLED", "PERIOD", "REASON"});
  for (const auto& c : at(s, "controllers")) {
    std::string reason = clip(str(c, "reason"), o == Output::wide ? 0 : 2 * kClip);
    if (o == Output::wide)
      t.add({str(c, "name"), yes_no(at(c, "enabled")), period_text(at(c, "period_ms")),
             seconds_text(at(c, "last_tick_seconds")), reason});
    else
      t.add({str(c, "name"), yes_no(at(c, "enabled")), period_text(at(c, "period_ms")), reason});
  }
  out += "\n" + (t.empty() ? std::string("no controllers registered\n") : t.render());
  return out;
}

std::string render_pods(const json& pods, Output o) {
  if (o == Output::json) return to_pretty(pods);
  if (!pods.is_array() || pods.empty()) return "no pods on this node\n";
  if (o == Output::wide) {
    Table t({"NAMESPACE", "POD", "UID", "QOS", "KUBE-QOS", "CONTAINER", "CGROUP", "KNOB", "CURRENT", "ORIGINAL",
             "OWNER", "REASON"});
    for (const auto& p : pods) {
      auto pod_cells = std::vector<std::string>{str(p, "namespace"), str(p, "name"), str(p, "uid"), str(p, "qos"),
                                                str(p, "kube_qos")};
      bool any = false;
      if (at(p, "knobs").is_object())
        for (const auto& [name, k] : at(p, "knobs").items()) {
          auto row = pod_cells;
          row.insert(row.end(), {"(pod)", str(p, "cgroup"), name, str(k, "current"), str(k, "original"),
                                 str(k, "owner"), str(k, "reason")});
          t.add(row);
          any = true;
        }
      for (const auto& c : at(p, "containers")) {
        const json& knobs = at(c, "knobs");
        bool knob_rows = false;
        if (knobs.is_object())
          for (const auto& [name, k] : knobs.items()) {
            auto row = pod_cells;
            row.insert(row.end(), {str(c, "name"), str(c, "cgroup"), name, str(k, "current"), str(k, "original"),
                                   str(k, "owner"), str(k, "reason")});
            t.add(row);
            knob_rows = any = true;
          }
        if (!knob_rows) {
          auto row = pod_cells;
          row.insert(row.end(), {str(c, "name"), str(c, "cgroup")});
          t.add(row);
          any = true;
        }
      }
      if (!any) {
        auto row = pod_cells;
        row.insert(row.end(), {"", str(p, "cgroup")});
        t.add(row);
      }
    }
    return t.render();
  }
  Table t({"NAMESPACE", "POD", "QOS", "CONTAINER", "KNOBS"});
  auto knobs_text = [](const json& knobs) {
    std::string text;
    if (knobs.is_object())
      for (const auto& [name, k] : knobs.items()) {
        std::string item = name + " " + str(k, "current");
        const json& orig = at(k, "original");
        if (known(orig) && orig != at(k, "current")) item += " (was " + cell_text(orig) + ")";
        text += (text.empty() ? "" : ", ") + item;
      }
    return text;
  };
  for (const auto& p : pods) {
    bool any = false;
    if (at(p, "knobs").is_object() && !at(p, "knobs").empty()) {  // pod-level cgroup knobs
      t.add({str(p, "namespace"), str(p, "name"), str(p, "qos"), "(pod)", knobs_text(at(p, "knobs"))});
      any = true;
    }
    for (const auto& c : at(p, "containers")) {
      t.add({str(p, "namespace"), str(p, "name"), str(p, "qos"), str(c, "name"), knobs_text(at(c, "knobs"))});
      any = true;
    }
    if (!any) t.add({str(p, "namespace"), str(p, "name"), str(p, "qos"), "", ""});
  }
  return t.render();
}

std::string render_explain(const std::string& pod, const json& decisions, Output o) {
  if (o == Output::json) return to_pretty(decisions);
  if (!decisions.is_array() || decisions.empty()) return "no decisions recorded for " + pod + "\n";
  Table t = o == Output::wide
                ? Table({"TIME", "CONTROLLER", "CGROUP", "KNOB", "FROM", "TO", "RESULT", "REASON"})
                : Table({"TIME", "CONTROLLER", "KNOB", "FROM", "TO", "RESULT", "REASON"});
  for (const auto& d : decisions) {
    std::string reason = clip(str(d, "reason"), o == Output::wide ? 0 : 2 * kClip);
    if (o == Output::wide)
      t.add({time_text(at(d, "time")), str(d, "controller"), str(d, "cgroup"), str(d, "knob"), str(d, "from"),
             str(d, "to"), str(d, "result"), reason});
    else
      t.add({time_text(at(d, "time")), str(d, "controller"), str(d, "knob"), str(d, "from"), str(d, "to"),
             str(d, "result"), reason});
  }
  return t.render();
}

std::string render_config(const json& c, Output o) {
  if (o == Output::json) return to_pretty(c);
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"source", str(c, "source")},
      {"loaded at", time_text(at(c, "loaded_at"))},
      {"last error", at(c, "last_error").is_null() || at(c, "last_error") == "" ? "none" : str(c, "last_error")},
  };
  return key_values(pairs) + "effective:\n" + to_pretty(at(c, "effective"));
}

std::string render_document(const json& doc, Output o) {
  if (o == Output::json) return to_pretty(doc);
  if (is_table(doc)) return render_rows(doc, o);
  if (doc.is_array() && doc.empty()) return "nothing to show\n";
  if (is_scalar(doc) || doc.is_array()) return cell_text(doc) + "\n";
  if (doc.empty()) return "nothing to show\n";
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::pair<std::string, const json*>> tables;
  flatten(doc, "", pairs, tables, o);
  std::string out = key_values(pairs);
  for (const auto& [name, rows] : tables) {
    if (!out.empty()) out += "\n";
    out += upper(name) + "\n" + render_rows(*rows, o);
  }
  return out;
}

std::string render_restore(const json& r, Output o) {
  if (o == Output::json) return to_pretty(r);
  auto count = [&](const char* key) -> std::string {
    const json& v = at(r, key);
    if (v.is_array()) return std::to_string(v.size());
    return v.is_null() ? "0" : cell_text(v);
  };
  std::string out = "restored " + count("restored") + " knob(s), " + count("gone") + " gone, " + count("failed") +
                    " failed\n";
  const json& failed = at(r, "failed");
  if (is_table(failed)) {
    out += render_rows(failed, o);
  } else if (failed.is_array()) {
    for (const auto& f : failed) out += "  " + cell_text(f) + "\n";
  }
  return out;
}

}  // namespace slo::cli
