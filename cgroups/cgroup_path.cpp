#include "cgroups/cgroup_path.h"

#include <ostream>

namespace slo::cg {

CgroupPath::CgroupPath(std::string s) {
  if (!s.empty()) rep_ = new Rep{{1}, std::move(s)};
}

CgroupPath& CgroupPath::operator=(const CgroupPath& o) noexcept {
  if (rep_ != o.rep_) {
    o.retain();
    release();
    rep_ = o.rep_;
  }
  return *this;
}

CgroupPath& CgroupPath::operator=(CgroupPath&& o) noexcept {
  if (this != &o) {
    release();
    rep_ = o.rep_;
    o.rep_ = nullptr;
  }
  return *this;
}

void CgroupPath::release() noexcept {
  // acq_rel: the last owner must see every other owner's use of the text before it frees it.
  if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep_;
  rep_ = nullptr;
}

const std::string& CgroupPath::empty_text() noexcept {
  static const std::string empty;
  return empty;
}

std::ostream& operator<<(std::ostream& os, const CgroupPath& p) { return os << p.str(); }

}  // namespace slo::cg
