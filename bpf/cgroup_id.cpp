#include "bpf/cgroup_id.h"

#include <sys/stat.h>

#include <cerrno>

namespace slo::bpf {

std::optional<uint64_t> cgroup_id_of(const std::string& dir, int* err) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (err) *err = errno;
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (err) *err = ENOTDIR;
    return std::nullopt;
  }
  if (err) *err = 0;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace slo::bpf
