// sloctl's tables: aligned columns, knob "was" values, wide vs clipped cells.
#include <catch2/catch.hpp>

#include <sstream>

#include "cli/render.h"
#include "cli/table.h"
#include "tests/api/fake_queries.h"

using nlohmann::json;
using slo::cli::Output;
using slo::test::FakeQueries;

namespace {

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("tables align every column under its header", "[unit][render]") {
  slo::cli::Table t({"NAME", "CPUS", "NOTE"});
  t.add({"a", "0-3", "x"});
  t.add({"long-name", "", "über"});
  auto l = lines(t.render());
  REQUIRE(l.size() == 3);
  CHECK(l[0] == "NAME        CPUS   NOTE");
  CHECK(l[1] == "a           0-3    x");
  CHECK(l[2] == "long-name   -      über");  // empty cell shown as "-", width counts code points
}

TEST_CASE("clip shortens on code point boundaries", "[unit][render]") {
  CHECK(slo::cli::clip("abcdef", 4) == "abc…");
  CHECK(slo::cli::clip("ääää", 3) == "ää…");
  CHECK(slo::cli::clip("a\nb", 0) == "a b");
}

TEST_CASE("durations read like kubectl ages", "[unit][render]") {
  CHECK(slo::cli::format_duration(42) == "42s");
  CHECK(slo::cli::format_duration(3725.5) == "1h2m");
  CHECK(slo::cli::format_duration(90000) == "1d1h");
  CHECK(slo::cli::format_duration(-1) == "-");
}

TEST_CASE("status shows controllers, capabilities and readiness", "[unit][render]") {
  std::string s = slo::cli::render_status(FakeQueries::status_doc(), Output::table);
  CHECK(s.find("version:") != std::string::npos);
  CHECK(s.find("9.9.9-fake") != std::string::npos);
  CHECK(s.find("1h2m") != std::string::npos);
  CHECK(s.find("hybrid (driver cgroupfs)") != std::string::npos);
  CHECK(s.find("capabilities.bpf.runqlat:") != std::string::npos);
  CHECK(s.find("resctrl not mounted at /sys/fs/resctrl") != std::string::npos);
  auto l = lines(s);
  auto header = std::find_if(l.begin(), l.end(), [](const std::string& x) { return x.rfind("CONTROLLER", 0) == 0; });
  REQUIRE(header != l.end());
  CHECK(header->find("LAST TICK") == std::string::npos);
  CHECK(slo::cli::render_status(FakeQueries::status_doc(), Output::wide).find("420µs") != std::string::npos);
  CHECK(json::parse(slo::cli::render_status(FakeQueries::status_doc(), Output::json)) == FakeQueries::status_doc());
}

TEST_CASE("pods: one row per container by default, one per knob wide", "[unit][render]") {
  auto l = lines(slo::cli::render_pods(FakeQueries::pods_doc(), Output::table));
  REQUIRE(l.size() == 5);  // header + web-0 (pod) + nginx + executor + sidecar
  CHECK(l[0].rfind("NAMESPACE", 0) == 0);
  CHECK(l[1].find("(pod)") != std::string::npos);
  CHECK(l[1].find("cpu_quota 250000") != std::string::npos);
  CHECK(l[1].find("(was") == std::string::npos);  // original "" = never changed: no "was"
  CHECK(l[2].find("cpu_quota 150000 (was 100000)") != std::string::npos);
  CHECK(l[2].find("memory_limit 9223372036854771712") != std::string::npos);
  CHECK(l[2].find("memory_limit 9223372036854771712 (was") == std::string::npos);  // unknown original: no "was"
  CHECK(l[3].find("cpuset_cpus 0-3,8 (was 0-19)") != std::string::npos);
  // Column starts line up.
  CHECK(l[0].find("CONTAINER") == l[2].find("nginx"));
  auto w = lines(slo::cli::render_pods(FakeQueries::pods_doc(), Output::wide));
  REQUIRE(w.size() == 1 + 1 + 3 + 1 + 1);  // pod knob, 3 nginx knobs, 1 BE knob, sidecar without knobs
  CHECK(w[0].find("CGROUP") != std::string::npos);
  CHECK(w[0].find("OWNER") != std::string::npos);
  CHECK(slo::cli::render_pods(json::array(), Output::table) == "no pods on this node\n");
}

TEST_CASE("explain lists decisions with times", "[unit][render]") {
  std::string s = slo::cli::render_explain("default/web-0", FakeQueries::explain_doc(), Output::table);
  CHECK(s.find("2025-11-29T12:00:00.250Z") != std::string::npos);  // Unix seconds rendered in UTC
  CHECK(s.find("2026-11-29T12:00:01.500Z") != std::string::npos);  // text kept as given
  CHECK(s.find("EINVAL") != std::string::npos);
  CHECK(s.find("CGROUP") == std::string::npos);
  CHECK(slo::cli::render_explain("default/web-0", FakeQueries::explain_doc(), Output::wide).find("CGROUP") !=
        std::string::npos);
  CHECK(slo::cli::render_explain("a/b", json::array(), Output::table) == "no decisions recorded for a/b\n");
}

TEST_CASE("documents: scalars as key lines, arrays of objects as tables", "[unit][render]") {
  std::string s = slo::cli::render_document(FakeQueries::pools_doc(), Output::table);
  CHECK(s.find("be_budget_cores:   4.5") != std::string::npos);
  auto l = lines(s);
  auto hdr = std::find(l.begin(), l.end(), "POOLS");
  REQUIRE(hdr != l.end());
  REQUIRE(hdr + 3 < l.end() + 0);
  CHECK(hdr[1].rfind("NAME", 0) == 0);  // the name column comes first
  CHECK(hdr[2].rfind("LSE", 0) == 0);
  json long_doc = {{"note", std::string(200, 'x')}};
  CHECK(slo::cli::render_document(long_doc, Output::table).find("…") != std::string::npos);
  CHECK(slo::cli::render_document(long_doc, Output::wide).find(std::string(200, 'x')) != std::string::npos);
  CHECK(slo::cli::render_document(json::object(), Output::table) == "nothing to show\n");
}

TEST_CASE("config and restore summaries", "[unit][render]") {
  std::string c = slo::cli::render_config(FakeQueries::config_doc(), Output::table);
  CHECK(c.find("last error:") != std::string::npos);
  CHECK(c.find("cpuBurstPercent: must be >= 0") != std::string::npos);
  CHECK(c.find("\"cpuBurstPercent\": 1000") != std::string::npos);
  json r = {{"restored", 3}, {"gone", 1}, {"failed", json::array({"x: EINVAL"})}};
  std::string s = slo::cli::render_restore(r, Output::table);
  CHECK(s.rfind("restored 3 knob(s), 1 gone, 1 failed\n", 0) == 0);
  CHECK(s.find("  x: EINVAL") != std::string::npos);
}
