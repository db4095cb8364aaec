#include "agent/kube/informer.h"

#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/runtime/log.h"

namespace slo::kube {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

std::string_view to_string(EventType t) {
  switch (t) {
    case EventType::added: return "ADDED";
    case EventType::modified: return "MODIFIED";
    case EventType::deleted: return "DELETED";
    case EventType::bookmark: return "BOOKMARK";
  }
  return "?";
}

namespace {

std::string meta_string(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

std::string key_of(const json& obj) {
  std::string ns = meta_string(obj, "namespace"), name = meta_string(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

}  // namespace

struct Informer::State : std::enable_shared_from_this<Informer::State> {
  Client& client;
  InformerOptions opts;
  Callback cb;
  Backoff backoff;
  asio::steady_timer timer;
  std::shared_ptr<CancelSlot> slot = std::make_shared<CancelSlot>();
  bool stopped = false;  // io thread only
  bool running = false;

  mutable std::mutex mu;  // guards what other threads read
  mutable std::condition_variable cv;
  std::map<std::string, json> cache;
  std::string rv;
  bool synced = false;
  InformerStats stats;

  State(Client& c, InformerOptions o, Callback f)
      : client(c), opts(std::move(o)), cb(std::move(f)), backoff(opts.backoff), timer(c.io()) {
    if (opts.name.empty()) opts.name = opts.path;
  }

  std::string selectors() const {
    std::string q;
    if (!opts.field_selector.empty()) q += "&fieldSelector=" + url_escape(opts.field_selector);
    if (!opts.label_selector.empty()) q += "&labelSelector=" + url_escape(opts.label_selector);
    return q;
  }
  std::string list_target() const {
    std::string q = selectors();
    return q.empty() ? opts.path : opts.path + "?" + q.substr(1);
  }
  std::string watch_target(const std::string& from, std::chrono::seconds timeout) const {
    return opts.path + "?watch=true&resourceVersion=" + url_escape(from) + "&allowWatchBookmarks=true&timeoutSeconds=" +
           std::to_string(timeout.count()) + selectors();
  }

  void error(const std::string& line) {
    {
      std::lock_guard lk(mu);
      ++stats.errors;
      stats.last_error = line;
    }
    log::warn("kube", "informer " + opts.name + ": " + line);
  }

  void deliver(EventType t, const std::string& key, const json& obj, const std::string& resource_version) {
    if (stopped) return;
    if (t != EventType::bookmark) {
      std::lock_guard lk(mu);
      ++stats.events;
    }
    if (!cb) return;
    WatchEvent ev{t, key, &obj, resource_version};
    cb(ev);
  }

  asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !stopped;
  }

  // LIST and reconcile the cache; false on failure (error recorded).
  asio::awaitable<bool> list() {
    ApiResult r = co_await client.async_call(Verb::list, http::verb::get, list_target());
    if (stopped) co_return false;
    {
      std::lock_guard lk(mu);
      ++stats.lists;
    }
    if (!r.ok) {
      error(r.error);
      co_return false;
    }
    json doc = r.json();
    if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
      error("LIST " + opts.path + ": response is not a list");
      co_return false;
    }
    std::string list_rv = meta_string(doc, "resourceVersion");
    std::map<std::string, json> fresh;
    for (auto& item : doc["items"]) {
      std::string k = key_of(item);
      if (!k.empty()) fresh[k] = std::move(item);
    }
    // Diff against the cache: what changed while we were not watching is delivered now.
    std::map<std::string, json> old;
    {
      std::lock_guard lk(mu);
      old.swap(cache);
      cache = fresh;
      rv = list_rv;
    }
    for (auto& [k, obj] : fresh) {
      auto it = old.find(k);
      std::string orv = meta_string(obj, "resourceVersion");
      if (it == old.end()) {
        deliver(EventType::added, k, obj, orv);
      } else if (meta_string(it->second, "resourceVersion") != orv) {
        deliver(EventType::modified, k, obj, orv);
      }
    }
    for (auto& [k, obj] : old)
      if (!fresh.count(k)) deliver(EventType::deleted, k, obj, list_rv);
    {
      std::lock_guard lk(mu);
      synced = true;
    }
    cv.notify_all();
    co_return true;
  }

  // Handles one watch line; false ends the stream (410 → *gone).
  bool on_line(std::string_view line, bool* gone) {
    if (stopped) return false;
    json ev = json::parse(line, nullptr, false);
    if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string() || !ev.contains("object")) {
      error("watch " + opts.path + ": malformed event line, re-watching");
      return false;
    }
    std::string type = ev["type"].get<std::string>();
    json& obj = ev["object"];
    std::string orv = meta_string(obj, "resourceVersion");
    if (type == "ERROR") {
      int code = obj.value("code", 0);
      if (code == 410) {
        *gone = true;
      } else {
        error(describe_api_error("watch " + opts.path + " ERROR event", code, obj.dump()));
      }
      return false;
    }
    if (type == "BOOKMARK") {
      {
        std::lock_guard lk(mu);
        if (!orv.empty()) rv = orv;
        ++stats.bookmarks;
      }
      deliver(EventType::bookmark, "", obj, orv);
      return true;
    }
    std::string k = key_of(obj);
    EventType t;
    if (type == "ADDED") {
      t = EventType::added;
    } else if (type == "MODIFIED") {
      t = EventType::modified;
    } else if (type == "DELETED") {
      t = EventType::deleted;
    } else {
      error("watch " + opts.path + ": unknown event type " + type);
      return true;
    }
    {
      std::lock_guard lk(mu);
      if (t == EventType::deleted)
        cache.erase(k);
      else
        cache[k] = obj;
      if (!orv.empty()) rv = orv;
    }
    deliver(t, k, obj, orv);
    return true;
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();  // keeps the state alive while the coroutine runs
    while (!stopped) {
      if (!co_await list()) {
        if (!co_await sleep(backoff.next())) break;
        continue;
      }
      backoff.reset();
      // Watch until the server says our resourceVersion is gone.
      while (!stopped) {
        std::string from;
        {
          std::lock_guard lk(mu);
          from = rv;
        }
        auto timeout = jittered_seconds(opts.watch_timeout_min, opts.watch_timeout_max);
        bool gone = false;
        {
          std::lock_guard lk(mu);
          ++stats.watches;
        }
        StreamResult s = co_await client.async_watch(
            watch_target(from, timeout), std::chrono::duration_cast<std::chrono::milliseconds>(timeout + opts.idle_slack),
            [this, &gone](std::string_view line) { return on_line(line, &gone); }, slot);
        if (stopped) break;
        if (gone || s.head.status == 410) {
          std::lock_guard lk(mu);
          ++stats.relists_after_gone;
          log::info("kube", "informer " + opts.name + ": resourceVersion " + from + " expired (410), relisting");
          break;
        }
        if (s.clean_end) {
          // A server-side timeout: expected, re-watch at once and keep it out of the request budget.
          client.counters().add_watch_timeout_reconnect();
          std::lock_guard lk(mu);
          ++stats.watch_timeouts;
          backoff.reset();
          continue;
        }
        if (!s.head.transport_ok()) {
          {
            std::lock_guard lk(mu);
            ++stats.watch_drops;
          }
          if (s.lines > 0) {
            // The stream worked and then broke: re-watch from the last resourceVersion straight away.
            log::info("kube", "informer " + opts.name + ": watch dropped (" + s.head.error + "), re-watching from " +
                                  (rv.empty() ? from : rv));
            backoff.reset();
            continue;
          }
          error("WATCH " + opts.path + " from " + from + ": " + s.head.error + " (before any event)");
        } else if (s.head.status != 200) {
          error(describe_api_error("WATCH " + opts.path, s.head.status, s.head.body));
        } else if (s.stopped) {
          // A malformed line or a non-410 ERROR event: re-watch after a pause.
        } else {
          // 200 and ended without the terminator but no transport error: treat as a drop.
          std::lock_guard lk(mu);
          ++stats.watch_drops;
        }
        if (!co_await sleep(backoff.next())) break;
      }
    }
    running = false;
    cv.notify_all();
  }
};

Informer::Informer(Client& client, InformerOptions opts, Callback cb)
    : st_(std::make_shared<State>(client, std::move(opts), std::move(cb))) {}

Informer::~Informer() { stop(); }

void Informer::start() {
  auto st = st_;
  asio::post(st->client.io(), [st] {
    if (st->running || st->stopped) return;
    st->running = true;
    asio::co_spawn(st->client.io(), st->run(), asio::detached);
  });
}

void Informer::stop() {
  auto st = st_;
  auto do_stop = [st] {
    st->stopped = true;
    st->timer.cancel();
    if (st->slot->cancel) st->slot->cancel();
  };
  if (st->client.io().get_executor().running_in_this_thread()) {
    do_stop();
    return;
  }
  // A stopped io_context runs nothing any more: no callback can come, and a posted stop would never run.
  if (st->client.io().stopped()) return;
  // From another thread: run the stop on the io thread and wait for it, so no callback runs afterwards.
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(st->client.io(), [do_stop, done] {
    do_stop();
    done->set_value();
  });
  // Bounded: if the io thread is stopped meanwhile, the posted stop never runs (and nothing can call back).
  (void)f.wait_for(std::chrono::seconds(5));
}

bool Informer::synced() const {
  std::lock_guard lk(st_->mu);
  return st_->synced;
}

bool Informer::wait_synced(std::chrono::milliseconds timeout) const {
  std::unique_lock lk(st_->mu);
  return st_->cv.wait_for(lk, timeout, [&] { return st_->synced; });
}

std::map<std::string, json> Informer::snapshot() const {
  std::lock_guard lk(st_->mu);
  return st_->cache;
}

std::optional<json> Informer::get(const std::string& key) const {
  std::lock_guard lk(st_->mu);
  auto it = st_->cache.find(key);
  if (it == st_->cache.end()) return std::nullopt;
  return it->second;
}

std::string Informer::resource_version() const {
  std::lock_guard lk(st_->mu);
  return st_->rv;
}

InformerStats Informer::stats() const {
  std::lock_guard lk(st_->mu);
  return st_->stats;
}

std::string Informer::list_target() const { return st_->list_target(); }
std::string Informer::watch_target(const std::string& rv, std::chrono::seconds timeout) const {
  return st_->watch_target(rv, timeout);
}

}  // namespace slo::kube
