// The standalone pod source: a kubelet PodList JSON file (--pods-file), re-read when it changes. The runtime also
// watches the file's directory with inotify, so an edit (or an atomic rename over it) is picked up at once; the
// poll interval is the fallback for filesystems without inotify.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <string>

#include "agent/observe/pod_source.h"

namespace slo::agent {

class FilePodSource final : public PodSource {
 public:
  FilePodSource(std::string path, std::chrono::milliseconds interval) : path_(std::move(path)), interval_(interval) {}
  std::string_view name() const override { return "file"; }
  PodFetch fetch() override;
  std::chrono::milliseconds next_delay(bool) override { return interval_; }
  bool changed() override;
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
    bool operator==(const Stamp& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  Stamp stamp() const;

  std::string path_;
  std::chrono::milliseconds interval_;
  Stamp last_{};
};

}  // namespace slo::agent
