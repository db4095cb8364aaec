// A bearer token that is either fixed (kubeconfig "token:") or read from a file that kubelet rotates (projected
// service-account tokens are replaced about hourly). The file is re-read only when its identity or mtime changed,
// so a 10 s poll costs one stat, and a rotated token is used on the very next request.
#pragma once

#include <ctime>
#include <mutex>
#include <string>
#include <sys/types.h>

namespace slo::kube {

class TokenSource {
 public:
  TokenSource() = default;
  static TokenSource fixed(std::string token);
  static TokenSource file(std::string path);
  TokenSource(const TokenSource& o);
  TokenSource& operator=(const TokenSource& o);

  // The current token ("" when none is configured). On a read error the last good token is kept and `error` set.
  std::string token(std::string* error = nullptr);
  const std::string& path() const { return path_; }
  bool empty() const { return path_.empty() && token_.empty(); }
  uint64_t reloads() const { return reloads_; }

 private:
  std::mutex mu_;
  std::string path_;
  std::string token_;
  ino_t ino_ = 0;
  dev_t dev_ = 0;
  struct timespec mtime_ {};
  off_t size_ = -1;
  uint64_t reloads_ = 0;
};

}  // namespace slo::kube
