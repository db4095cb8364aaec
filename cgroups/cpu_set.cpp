#include "cgroups/cpu_set.h"

#include <algorithm>
#include <bit>
#include <charconv>

namespace slo::cg {

CpuSet CpuSet::of(std::initializer_list<int> ids) {
  CpuSet s;
  for (int id : ids) s.add(id);
  return s;
}

CpuSet CpuSet::range(int first, int last) {
  CpuSet s;
  for (int i = first; i <= last; ++i) s.add(i);
  return s;
}

std::optional<CpuSet> CpuSet::parse(std::string_view text, int max_id) {
  CpuSet s;
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\n' || v.front() == '\r'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n' || v.back() == '\r'))
      v.remove_suffix(1);
    return v;
  };
  text = trim(text);
  if (text.empty()) return s;
  auto num = [&](std::string_view v, int& out) {
    v = trim(v);
    if (v.empty()) return false;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size() && out >= 0 && out <= max_id;
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t dash = item.find('-');
    int a = 0, b = 0;
    if (dash == std::string_view::npos) {
      if (!num(item, a)) return std::nullopt;
      b = a;
    } else {
      if (!num(item.substr(0, dash), a) || !num(item.substr(dash + 1), b) || b < a) return std::nullopt;
    }
    for (int i = a; i <= b; ++i) s.add(i);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return s;
}

void CpuSet::add(int id) {
  if (id < 0) return;
  size_t w = static_cast<size_t>(id) / 64;
  if (bits_.size() <= w) bits_.resize(w + 1, 0);
  bits_[w] |= uint64_t{1} << (id % 64);
}

void CpuSet::remove(int id) {
  if (id < 0) return;
  size_t w = static_cast<size_t>(id) / 64;
  if (w < bits_.size()) bits_[w] &= ~(uint64_t{1} << (id % 64));
  normalize();
}

bool CpuSet::contains(int id) const {
  if (id < 0) return false;
  size_t w = static_cast<size_t>(id) / 64;
  return w < bits_.size() && (bits_[w] >> (id % 64)) & 1;
}

size_t CpuSet::size() const {
  size_t n = 0;
  for (uint64_t w : bits_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

std::vector<int> CpuSet::ids() const {
  std::vector<int> out;
  for (size_t w = 0; w < bits_.size(); ++w)
    for (int b = 0; b < 64; ++b)
      if ((bits_[w] >> b) & 1) out.push_back(static_cast<int>(w * 64) + b);
  return out;
}

int CpuSet::first() const {
  for (size_t w = 0; w < bits_.size(); ++w)
    if (bits_[w]) return static_cast<int>(w * 64) + std::countr_zero(bits_[w]);
  return -1;
}

void CpuSet::normalize() {
  while (!bits_.empty() && bits_.back() == 0) bits_.pop_back();
}

CpuSet CpuSet::operator|(const CpuSet& o) const {
  CpuSet r;
  r.bits_.resize(std::max(bits_.size(), o.bits_.size()), 0);
  for (size_t i = 0; i < r.bits_.size(); ++i)
    r.bits_[i] = (i < bits_.size() ? bits_[i] : 0) | (i < o.bits_.size() ? o.bits_[i] : 0);
  r.normalize();
  return r;
}

CpuSet CpuSet::operator&(const CpuSet& o) const {
  CpuSet r;
  r.bits_.resize(std::min(bits_.size(), o.bits_.size()), 0);
  for (size_t i = 0; i < r.bits_.size(); ++i) r.bits_[i] = bits_[i] & o.bits_[i];
  r.normalize();
  return r;
}

CpuSet CpuSet::operator-(const CpuSet& o) const {
  CpuSet r = *this;
  for (size_t i = 0; i < r.bits_.size() && i < o.bits_.size(); ++i) r.bits_[i] &= ~o.bits_[i];
  r.normalize();
  return r;
}

bool CpuSet::operator==(const CpuSet& o) const {
  size_t n = std::max(bits_.size(), o.bits_.size());
  for (size_t i = 0; i < n; ++i)
    if ((i < bits_.size() ? bits_[i] : 0) != (i < o.bits_.size() ? o.bits_[i] : 0)) return false;
  return true;
}

std::string CpuSet::to_string() const {
  std::string out;
  auto v = ids();
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(v[i]);
    if (j > i) out += '-' + std::to_string(v[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace slo::cg
