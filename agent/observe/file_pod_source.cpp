#include "agent/observe/file_pod_source.h"

#include <sys/stat.h>

#include "agent/runtime/document.h"

namespace slo::agent {

FilePodSource::Stamp FilePodSource::stamp() const {
  struct stat st {};
  Stamp s;
  if (::stat(path_.c_str(), &st) != 0) return s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

bool FilePodSource::changed() { return !(stamp() == last_); }

PodFetch FilePodSource::fetch() {
  PodFetch f;
  last_ = stamp();
  std::string err;
  auto text = read_text_file(path_, err);
  if (!text) {
    f.error = "pods file: " + err;
    return f;
  }
  f.pods = model::parse_pod_list(*text);
  // Document-level errors ("PodList: malformed JSON", "PodList.items: …") mean a half-written or wrong file.
  if (f.pods.pods.empty() && !f.pods.errors.empty() && f.pods.errors.front().rfind("PodList", 0) == 0) {
    // A document that is not a PodList at all: keep the last good list instead of dropping every pod.
    f.error = "pods file " + path_ + ": " + f.pods.errors.front();
    return f;
  }
  f.ok = true;
  return f;
}

}  // namespace slo::agent
