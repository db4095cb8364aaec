// inotify on the agent's event loop: one fd, many watches, a callback per watch. Used for the kubepods tree (a new
// pod cgroup triggers a pod sync at once), the config file's directory (ConfigMap ..data symlink swaps), the
// policy dir and the pods file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace slo::agent {

class InotifyWatch {
 public:
  // name: the entry the event is about ("" for the watched dir itself); mask: IN_* bits.
  using Callback = std::function<void(const std::string& name, uint32_t mask)>;

  explicit InotifyWatch(boost::asio::io_context& io);
  ~InotifyWatch();
  bool ok() const { return fd_ >= 0; }

  // Adds (or replaces the callback of) a watch on path. Returns the watch descriptor or -errno.
  int add(const std::string& path, uint32_t mask, Callback cb);
  void remove(int wd);
  size_t size() const { return watches_.size(); }

 private:
  void arm();

  int fd_ = -1;
  boost::asio::posix::stream_descriptor stream_;
  std::map<int, Callback> watches_;
  char buf_[16384] __attribute__((aligned(8)));
};

}  // namespace slo::agent
