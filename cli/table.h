// kubectl-style aligned tables: upper-case headers, columns padded to the widest cell plus three spaces, empty
// cells shown as "<none>"-free "-" so that awk-ing a column never shifts.
#pragma once

#include <string>
#include <vector>

namespace slo::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Cuts text longer than `max` to max-1 characters plus "…" (max 0 = unlimited); newlines become spaces.
std::string clip(const std::string& text, size_t max);

}  // namespace slo::cli
