// MetricTable against prometheus-cpp: the same series fed to both must serialize to the same text, so moving a
// family into a table changes no scrape.
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/runtime/metric_table.h"
#include "agent/runtime/metrics_registry.h"

using slo::agent::MetricTable;
using slo::agent::MetricsRegistry;

namespace {

// Scrape text as a sorted list of lines: families and series may come in another order, nothing else may differ.
std::vector<std::string> lines_of(const std::vector<prometheus::MetricFamily>& fams) {
  std::istringstream in(prometheus::TextSerializer().Serialize(fams));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<MetricTable::Column> columns(const std::vector<double>& bounds) {
  return {{"t_usage_cores", "usage"},
          {"t_periods_total", "periods", MetricTable::Kind::counter},
          {"t_delay_seconds", "delay", MetricTable::Kind::histogram, bounds}};
}

}  // namespace

TEST_CASE("metric table: gauge, counter and histogram serialize like prometheus-cpp families") {
  const std::vector<double> bounds{0.001, 0.01, 0.1};
  MetricTable table({"container", "namespace", "pod", "qos"}, columns(bounds));

  prometheus::Registry ref;
  auto& g = prometheus::BuildGauge().Name("t_usage_cores").Help("usage").Register(ref);
  auto& c = prometheus::BuildCounter().Name("t_periods_total").Help("periods").Register(ref);
  auto& h = prometheus::BuildHistogram().Name("t_delay_seconds").Help("delay").Register(ref);

  for (int i = 0; i < 5; ++i) {
    const std::string pod = "web-" + std::to_string(i) + "-a-rather-long-generated-suffix";
    prometheus::Labels l{{"container", "app"}, {"namespace", "prod"}, {"pod", pod}, {"qos", i % 2 ? "LS" : "BE"}};
    auto& row = table.row({"app", "prod", pod, i % 2 ? "LS" : "BE"});
    table.set(row, 0, 0.25 * i);
    g.Add(l).Set(0.25 * i);
    table.add(row, 1, 10.0 * i);
    table.add(row, 1, 3);
    c.Add(l).Increment(10.0 * i + 3);
    const std::vector<uint64_t> inc{1, 2, static_cast<uint64_t>(i), 4};
    table.observe(row, 2, inc.data(), inc.size(), 0.5 + i);
    h.Add(l, bounds).ObserveMultiple(std::vector<double>(inc.begin(), inc.end()), 0.5 + i);
  }
  CHECK(table.rows() == 5);
  CHECK(lines_of(table.Collect()) == lines_of(ref.Collect()));
}

TEST_CASE("metric table: a column is exported from its first value on; removed rows disappear") {
  MetricTable table({"pod"}, columns({1.0}));
  auto& a = table.row({"a"});
  auto& b = table.row({"b"});
  CHECK(&table.row({"a"}) == &a);  // the same labels give the same row
  table.set(a, 0, 1);
  table.add(b, 1, 0);  // a counter at 0 is exported
  auto fams = table.Collect();
  REQUIRE(fams.size() == 3);
  REQUIRE(fams[0].metric.size() == 1);
  CHECK(fams[0].metric[0].label[0].value == "a");
  REQUIRE(fams[1].metric.size() == 1);
  CHECK(fams[1].metric[0].label[0].value == "b");
  CHECK(fams[2].metric.empty());  // no histogram observed yet: family listed, no series

  table.remove(a);
  CHECK(table.rows() == 1);
  fams = table.Collect();
  CHECK(fams[0].metric.empty());
  CHECK(fams[1].metric.size() == 1);
}

TEST_CASE("metric table: the wrong number of label values is refused") {
  MetricTable table({"namespace", "pod"}, columns({}));
  CHECK_THROWS_AS(table.row({"only-one"}), std::invalid_argument);
}

TEST_CASE("metrics registry: attached tables are collected with the families, until their owner drops them") {
  MetricsRegistry reg;
  prometheus::BuildGauge().Name("t_plain").Help("plain").Register(reg).Add({}).Set(1);
  auto table = std::make_shared<MetricTable>(std::vector<std::string>{"pod"}, columns({}));
  table->set(table->row({"p"}), 0, 2);
  reg.attach(table);
  auto names = [&] {
    std::vector<std::string> n;
    for (const auto& f : reg.Collect()) n.push_back(f.name);
    return n;
  };
  CHECK(names() == std::vector<std::string>{"t_plain", "t_usage_cores", "t_periods_total", "t_delay_seconds"});
  // Through the base type too: the metrics server holds a prometheus::Registry.
  const prometheus::Registry& base = reg;
  CHECK(base.Collect().size() == 4);
  table.reset();
  CHECK(names() == std::vector<std::string>{"t_plain"});
}

TEST_CASE("metric table: writes and collections from two threads") {
  MetricTable table({"pod"}, columns({0.5}));
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      auto& r = table.row({"p" + std::to_string(i % 50)});
      table.set(r, 0, i);
      table.add(r, 1, 1);
      if (i % 7 == 0) table.remove(r);
    }
  });
  size_t seen = 0;
  for (int i = 0; i < 200; ++i) seen += table.Collect()[0].metric.size();
  writer.join();
  CHECK(table.rows() <= 50);
  CHECK(seen <= 200 * 50);
}
