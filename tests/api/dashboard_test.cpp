// deploy/grafana-dashboard.json and docs/metrics.md against each other and against the code: the dashboard is
// valid JSON whose every PromQL expression uses only documented sloagent_ metrics, the reference follows the naming
// rules, and every metric the API registers is documented.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "agent/api/api_metrics.h"
#include "tests/common/support.h"

using nlohmann::json;

namespace {

std::string source_root() {
  const char* env = std::getenv("SLO_SOURCE_ROOT");
  REQUIRE(env);
  return env;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  INFO("reading " << path);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct DocMetric {
  std::string type, unit, labels, meaning;
};

// Rows of the metric tables: | `name` | type | unit | labels | meaning |
std::map<std::string, DocMetric> documented_metrics() {
  std::map<std::string, DocMetric> out;
  std::istringstream in(read_file(source_root() + "/docs/metrics.md"));
  static const std::regex row(R"(^\|\s*`(sloagent_[a-z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|(.*)\|\s*$)");
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
  };
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row))
      out[m[1]] = DocMetric{trim(m[2]), trim(m[3]), trim(m[4]), trim(m[5])};
  }
  return out;
}

void collect_exprs(const json& panels, std::vector<std::pair<std::string, std::string>>& out, std::set<int>& ids) {
  for (const auto& p : panels) {
    if (p.contains("id")) {
      INFO("panel " << p.value("title", "?"));
      CHECK(ids.insert(p["id"].get<int>()).second);  // Grafana needs unique ids
    }
    if (p.contains("targets"))
      for (const auto& t : p["targets"])
        if (t.contains("expr")) out.emplace_back(p.value("title", "?"), t["expr"].get<std::string>());
    if (p.contains("panels")) collect_exprs(p["panels"], out, ids);
  }
}

std::set<std::string> metric_names_in(const std::string& expr) {
  std::set<std::string> names;
  static const std::regex name(R"(\bsloagent_[a-zA-Z0-9_]+)");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator(); ++it)
    names.insert(it->str());
  return names;
}

bool documented(const std::string& name, const std::map<std::string, DocMetric>& docs) {
  if (docs.count(name)) return true;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto it = docs.find(name.substr(0, name.size() - s.size()));
      if (it != docs.end() && (it->second.type == "histogram" || it->second.type == "summary")) return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("docs/metrics.md follows the naming rules", "[unit][docs]") {
  auto docs = documented_metrics();
  REQUIRE(docs.size() >= 20);
  static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary"};
  for (const auto& [name, d] : docs) {
    INFO(name);
    CHECK(types.count(d.type) == 1);
    CHECK(!d.meaning.empty());
    CHECK(!d.unit.empty());
    bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    CHECK(total == (d.type == "counter"));  // _total for counters and only for counters
    // Base units only.
    for (const char* bad : {"_ms", "_milliseconds", "_us", "_microseconds", "_ns", "_kb", "_mb", "_percent"}) {
      std::string b = bad;
      CHECK(name.find(b + "_") == std::string::npos);
      CHECK((name.size() < b.size() || name.compare(name.size() - b.size(), b.size(), b) != 0));
    }
  }
}

TEST_CASE("every metric the API registers is documented", "[unit][docs]") {
  prometheus::Registry r;
  slo::api::register_build_info(r, "test");
  slo::api::ApiMetrics m(r);
  m.count_call("Status", "OK");
  m.count_connection("accepted");
  m.count_http("/metrics", 200);
  auto docs = documented_metrics();
  for (const auto& fam : r.Collect()) {
    INFO(fam.name);
    REQUIRE(docs.count(fam.name) == 1);
    CHECK(docs[fam.name].type == (fam.type == prometheus::MetricType::Counter ? "counter" : "gauge"));
  }
}

TEST_CASE("the Grafana dashboard is valid and uses only documented metrics", "[unit][dashboard]") {
  json dash = json::parse(read_file(source_root() + "/deploy/grafana-dashboard.json"));  // throws if invalid
  REQUIRE(dash.is_object());
  CHECK(dash.value("title", "").find("sloagent") != std::string::npos);
  REQUIRE(dash.contains("panels"));
  std::vector<std::pair<std::string, std::string>> exprs;
  std::set<int> ids;
  collect_exprs(dash["panels"], exprs, ids);
  // Template variables (label_values(...) queries) count as expressions too.
  std::set<std::string> vars;
  for (const auto& v : dash["templating"]["list"]) {
    vars.insert(v["name"].get<std::string>());
    if (v.value("type", "") == "query") {
      std::string q = v["query"].is_object() ? v["query"].value("query", "") : v["query"].get<std::string>();
      exprs.emplace_back("variable " + v["name"].get<std::string>(), q);
    }
  }
  CHECK(vars.count("namespace") == 1);
  CHECK(vars.count("pod") == 1);
  REQUIRE(exprs.size() >= 15);

  auto docs = documented_metrics();
  bool node_view = false, pod_view = false;
  for (const auto& [title, expr] : exprs) {
    INFO(title << ": " << expr);
    auto names = metric_names_in(expr);
    CHECK(!names.empty());
    for (const auto& n : names) {
      INFO("metric " << n);
      CHECK(documented(n, docs));
    }
    if (expr.find("$pod") != std::string::npos) pod_view = true;
    if (expr.find("sloagent_node_") != std::string::npos) node_view = true;
  }
  CHECK(node_view);
  CHECK(pod_view);
}
