#include "cli/table.h"

#include <algorithm>

namespace slo::cli {

namespace {

// Display width: count UTF-8 code points (continuation bytes 10xxxxxx do not advance the cursor).
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string clip(const std::string& text, size_t max) {
  std::string s = text;
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\t', ' ');
  if (max == 0 || width(s) <= max) return s;
  // Cut on a code point boundary.
  size_t cps = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (cps == max - 1) break;
      ++cps;
    }
  }
  return s.substr(0, i) + "…";
}

std::string Table::render() const {
  size_t ncol = headers_.size();
  for (const auto& r : rows_) ncol = std::max(ncol, r.size());
  std::vector<size_t> w(ncol, 0);
  auto cell = [](const std::vector<std::string>& r, size_t i) -> std::string {
    if (i >= r.size() || r[i].empty()) return "-";
    return r[i];
  };
  for (size_t i = 0; i < ncol; ++i) {
    w[i] = i < headers_.size() ? width(headers_[i]) : 0;
    for (const auto& r : rows_) w[i] = std::max(w[i], width(cell(r, i)));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r, bool header) {
    std::string l;
    for (size_t i = 0; i < ncol; ++i) {
      std::string c = header ? (i < r.size() ? r[i] : "") : cell(r, i);
      l += c;
      if (i + 1 < ncol) l += std::string(w[i] - width(c) + 3, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers_, true);
  for (const auto& r : rows_) line(r, false);
  return out;
}

}  // namespace slo::cli
