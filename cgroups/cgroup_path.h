// A cgroup path relative to the hierarchy root ("kubepods/burstable/pod<uid>/<id>"), immutable and shared by every
// copy. The pod model resolves a path once; every knob reference, intent, claim, cache entry and journal entry made
// from it holds the same text. With std::string each of those held its own ~100-byte copy (five per held knob in
// the executor alone), and every intent a controller emitted per tick allocated one more. Equal handles compare
// equal without looking at the text, which is the common case on the tick path (the same pod model every tick).
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace slo::cg {

class CgroupPath {
 public:
  CgroupPath() noexcept = default;
  CgroupPath(std::string s);  // NOLINT(google-explicit-constructor): paths are written as strings everywhere
  CgroupPath(std::string_view s) : CgroupPath(std::string(s)) {}
  CgroupPath(const char* s) : CgroupPath(std::string(s)) {}
  CgroupPath(const CgroupPath& o) noexcept : rep_(o.rep_) { retain(); }
  CgroupPath(CgroupPath&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
  CgroupPath& operator=(const CgroupPath& o) noexcept;
  CgroupPath& operator=(CgroupPath&& o) noexcept;
  ~CgroupPath() { release(); }

  const std::string& str() const noexcept { return rep_ ? rep_->text : empty_text(); }
  operator const std::string&() const noexcept { return str(); }  // NOLINT: reads as the string it is
  operator std::string_view() const noexcept { return str(); }    // NOLINT
  const char* c_str() const noexcept { return str().c_str(); }
  size_t size() const noexcept { return str().size(); }
  bool empty() const noexcept { return str().empty(); }
  // Both handles share one text (copies of one another).
  bool shares(const CgroupPath& o) const noexcept { return rep_ == o.rep_; }

  friend bool operator==(const CgroupPath& a, const CgroupPath& b) noexcept {
    return a.rep_ == b.rep_ || a.str() == b.str();
  }
  friend std::strong_ordering operator<=>(const CgroupPath& a, const CgroupPath& b) noexcept {
    if (a.rep_ == b.rep_) return std::strong_ordering::equal;
    return a.str().compare(b.str()) <=> 0;
  }
  friend bool operator==(const CgroupPath& a, std::string_view b) noexcept { return a.str() == b; }
  friend bool operator==(const CgroupPath& a, const std::string& b) noexcept { return a.str() == b; }
  friend bool operator==(const CgroupPath& a, const char* b) noexcept { return a.str() == b; }
  friend std::strong_ordering operator<=>(const CgroupPath& a, std::string_view b) noexcept {
    return a.str().compare(b) <=> 0;
  }
  friend std::strong_ordering operator<=>(const CgroupPath& a, const std::string& b) noexcept {
    return a.str().compare(b) <=> 0;
  }

  friend std::string operator+(const CgroupPath& a, std::string_view b) { return std::string(a.str()).append(b); }
  friend std::string operator+(const CgroupPath& a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const CgroupPath& a, const char* b) { return a.str() + b; }
  friend std::string operator+(const CgroupPath& a, char b) { return a.str() + b; }
  friend std::string operator+(const std::string& a, const CgroupPath& b) { return a + b.str(); }
  friend std::string operator+(const char* a, const CgroupPath& b) { return a + b.str(); }
  friend std::string operator+(std::string&& a, const CgroupPath& b) { return std::move(a) + b.str(); }
  friend std::ostream& operator<<(std::ostream& os, const CgroupPath& p);

 private:
  struct Rep {
    std::atomic<uint32_t> refs{1};  // atomic: handles are copied on the API threads too
    std::string text;
  };
  static const std::string& empty_text() noexcept;
  void retain() const noexcept {
    if (rep_) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  Rep* rep_ = nullptr;  // nullptr = ""
};

}  // namespace slo::cg

template <>
struct std::hash<slo::cg::CgroupPath> {
  size_t operator()(const slo::cg::CgroupPath& p) const noexcept { return std::hash<std::string>{}(p.str()); }
};
