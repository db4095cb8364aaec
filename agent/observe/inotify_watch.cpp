#include "agent/observe/inotify_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace slo::agent {

InotifyWatch::InotifyWatch(boost::asio::io_context& io) : stream_(io) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  stream_.assign(fd_);
  arm();
}

InotifyWatch::~InotifyWatch() {
  boost::system::error_code ec;
  stream_.cancel(ec);
  stream_.close(ec);  // closes fd_
}

int InotifyWatch::add(const std::string& path, uint32_t mask, Callback cb) {
  if (fd_ < 0) return -EBADF;
  int wd = ::inotify_add_watch(fd_, path.c_str(), mask);
  if (wd < 0) return -errno;
  watches_[wd] = std::move(cb);
  return wd;
}

void InotifyWatch::remove(int wd) {
  if (watches_.erase(wd) && fd_ >= 0) ::inotify_rm_watch(fd_, wd);
}

void InotifyWatch::arm() {
  stream_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled at shutdown
    for (;;) {
      ssize_t n = ::read(fd_, buf_, sizeof buf_);
      if (n <= 0) break;
      for (char* p = buf_; p < buf_ + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->mask & IN_IGNORED) {
          watches_.erase(ev->wd);  // the watched dir was removed
          continue;
        }
        auto it = watches_.find(ev->wd);
        if (it == watches_.end()) continue;
        std::string name = ev->len ? std::string(ev->name) : std::string();
        auto cb = it->second;  // copy: the callback may add/remove watches
        cb(name, ev->mask);
      }
    }
    arm();
  });
}

}  // namespace slo::agent
