#include "agent/kube/token_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace slo::kube {

TokenSource TokenSource::fixed(std::string token) {
  TokenSource t;
  t.token_ = std::move(token);
  return t;
}

TokenSource TokenSource::file(std::string path) {
  TokenSource t;
  t.path_ = std::move(path);
  return t;
}

TokenSource::TokenSource(const TokenSource& o) { *this = o; }

TokenSource& TokenSource::operator=(const TokenSource& o) {
  if (this == &o) return *this;
  std::scoped_lock lk(mu_, const_cast<std::mutex&>(o.mu_));
  path_ = o.path_;
  token_ = o.token_;
  ino_ = o.ino_;
  dev_ = o.dev_;
  mtime_ = o.mtime_;
  size_ = o.size_;
  reloads_ = o.reloads_;
  return *this;
}

std::string TokenSource::token(std::string* error) {
  std::lock_guard lk(mu_);
  if (path_.empty()) return token_;
  struct stat st;
  // stat (not lstat): the kubelet's projected volume swaps a ..data symlink, the target's identity changes.
  if (::stat(path_.c_str(), &st) != 0) {
    if (error) *error = "token file " + path_ + ": " + std::strerror(errno);
    return token_;
  }
  bool same = st.st_ino == ino_ && st.st_dev == dev_ && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
              st.st_mtim.tv_nsec == mtime_.tv_nsec;
  if (same) return token_;
  std::ifstream in(path_);
  if (!in) {
    if (error) *error = "token file " + path_ + ": cannot open";
    return token_;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  token_ = std::move(t);
  ino_ = st.st_ino;
  dev_ = st.st_dev;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  ++reloads_;
  return token_;
}

}  // namespace slo::kube
