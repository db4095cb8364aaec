#include "agent/runtime/metric_table.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace slo::agent {

MetricTable::MetricTable(std::vector<std::string> label_names, std::vector<Column> columns)
    : label_names_(std::move(label_names)), columns_(std::move(columns)) {
  if (columns_.size() > 32) throw std::invalid_argument("MetricTable: at most 32 columns");
  for (size_t c = 0; c < columns_.size(); ++c) {
    offset_.push_back(width_);
    width_ += slots(c);
  }
}

size_t MetricTable::slots(size_t c) const {
  return columns_[c].kind == Kind::histogram ? columns_[c].bounds.size() + 2 : 1;
}

MetricTable::Row& MetricTable::row(Labels values) {
  if (values.size() != label_names_.size()) throw std::invalid_argument("MetricTable: wrong number of label values");
  std::lock_guard lk(mu_);
  auto [it, fresh] = rows_.try_emplace(std::move(values));
  if (fresh) {
    it->second.labels_ = &it->first;
    it->second.values_.assign(width_, 0.0);
  }
  return it->second;
}

void MetricTable::set(Row& r, size_t c, double v) {
  std::lock_guard lk(mu_);
  r.values_[offset_[c]] = v;
  r.present_ |= 1u << c;
}

void MetricTable::add(Row& r, size_t c, double delta) {
  std::lock_guard lk(mu_);
  r.values_[offset_[c]] += delta;
  r.present_ |= 1u << c;
}

void MetricTable::observe(Row& r, size_t c, const uint64_t* inc, size_t n, double sum) {
  std::lock_guard lk(mu_);
  const size_t buckets = columns_[c].bounds.size() + 1;
  double* v = r.values_.data() + offset_[c];
  for (size_t i = 0; i < n && i < buckets; ++i) v[i] += static_cast<double>(inc[i]);
  v[buckets] += sum;
  r.present_ |= 1u << c;
}

void MetricTable::remove(Row& r) {
  std::lock_guard lk(mu_);
  rows_.erase(*r.labels_);
}

size_t MetricTable::rows() const {
  std::lock_guard lk(mu_);
  return rows_.size();
}

std::vector<prometheus::MetricFamily> MetricTable::Collect() const {
  std::lock_guard lk(mu_);
  std::vector<prometheus::MetricFamily> out;
  out.reserve(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    const auto& col = columns_[c];
    prometheus::MetricFamily fam;
    fam.name = col.name;
    fam.help = col.help;
    fam.type = col.kind == Kind::gauge     ? prometheus::MetricType::Gauge
               : col.kind == Kind::counter ? prometheus::MetricType::Counter
                                           : prometheus::MetricType::Histogram;
    for (const auto& [labels, r] : rows_) {
      if (!(r.present_ & (1u << c))) continue;
      auto& m = fam.metric.emplace_back();
      m.label.reserve(labels.size());
      for (size_t i = 0; i < labels.size(); ++i) m.label.push_back({label_names_[i], labels[i]});
      const double* v = r.values_.data() + offset_[c];
      if (col.kind == Kind::gauge) {
        m.gauge.value = v[0];
      } else if (col.kind == Kind::counter) {
        m.counter.value = v[0];
      } else {
        const size_t buckets = col.bounds.size() + 1;
        uint64_t cumulative = 0;
        m.histogram.bucket.reserve(buckets);
        for (size_t i = 0; i < buckets; ++i) {
          cumulative += static_cast<uint64_t>(std::llround(v[i]));
          m.histogram.bucket.push_back(
              {cumulative, i < col.bounds.size() ? col.bounds[i] : std::numeric_limits<double>::infinity()});
        }
        m.histogram.sample_count = cumulative;
        m.histogram.sample_sum = v[buckets];
      }
    }
    // Like a prometheus-cpp family, a column with no series is still listed (HELP/TYPE only).
    out.push_back(std::move(fam));
  }
  return out;
}

}  // namespace slo::agent
