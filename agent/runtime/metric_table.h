// Per-pod Prometheus series kept as plain rows: one row per label tuple (a pod or a container), one value slot per
// column, each column exported as its own metric family when the registry is collected.
//
// Why not prometheus-cpp families: every series there is an object with its own label map, about 600 bytes for a
// gauge with four labels and 1 kB for a histogram (measured with mallinfo2). The agent keeps 15-25 per-pod series;
// at 500 pods that was ~7 MB of a 25 MB process. A row holds its labels once for all its columns.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace slo::agent {

class MetricTable : public prometheus::Collectable {
 public:
  enum class Kind { gauge, counter, histogram };
  struct Column {
    std::string name, help;
    Kind kind = Kind::gauge;
    std::vector<double> bounds = {};  // histogram: finite upper bounds, ascending (+Inf is implicit)
  };
  using Labels = std::vector<std::string>;  // values, in the order of the table's label names

  // A row's handle; valid until remove() of that row.
  class Row {
    friend class MetricTable;
    const Labels* labels_ = nullptr;  // the map key
    uint32_t present_ = 0;            // columns exported for this row (bit per column)
    std::vector<double> values_;      // per column: 1 slot, histograms: buckets + 1 (+Inf) + sum
  };

  // Label names are exported in the order given; pass them sorted by name to match prometheus-cpp's output.
  MetricTable(std::vector<std::string> label_names, std::vector<Column> columns);

  // The row of these label values, created (no column exported yet) if new.
  Row& row(Labels values);
  // Gauge value; the column is exported for the row from now on.
  void set(Row& r, size_t column, double v);
  // Counter increment (0 exports the column at 0).
  void add(Row& r, size_t column, double delta);
  // Histogram: one increment per finite bound plus one for +Inf (non-cumulative, as the caller bucketed them).
  void observe(Row& r, size_t column, const uint64_t* bucket_increments, size_t n, double sum);
  void remove(Row& r);

  size_t rows() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  size_t slots(size_t column) const;

  const std::vector<std::string> label_names_;
  const std::vector<Column> columns_;
  std::vector<size_t> offset_;  // first value slot of each column
  size_t width_ = 0;            // value slots of a row
  mutable std::mutex mu_;       // rows are written by the event loop, collected by the metrics thread
  std::map<Labels, Row> rows_;  // ordered: a scrape lists the series in a stable order
};

}  // namespace slo::agent
