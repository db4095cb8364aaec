#include "tests/fakes/fake_apiserver.h"

#include <openssl/evp.h>

#include <fstream>
#include <set>
#include <sstream>

namespace slo::fakes {
namespace {

using nlohmann::json;

json status_body(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// Looks up a dotted field path ("spec.nodeName") as a string ("" when absent).
std::string field_value(const json& obj, const std::string& dotted) {
  const json* cur = &obj;
  for (const auto& part : split(dotted, '.')) {
    if (!cur->is_object() || !cur->contains(part)) return "";
    cur = &(*cur)[part];
  }
  return cur->is_string() ? cur->get<std::string>() : cur->dump();
}

std::string label_value(const json& obj, const std::string& key, bool* present) {
  *present = false;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return "";
  auto v = l->find(key);
  if (v == l->end() || !v->is_string()) return "";
  *present = true;
  return v->get<std::string>();
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

bool matches_field_selector(const json& obj, const std::string& selector) {
  if (selector.empty()) return true;
  for (const auto& term : split(selector, ',')) {
    if (term.empty()) continue;
    size_t ne = term.find("!=");
    size_t eq = term.find('=');
    if (ne != std::string::npos) {
      if (field_value(obj, term.substr(0, ne)) == term.substr(ne + 2)) return false;
    } else if (eq != std::string::npos) {
      std::string want = term.substr(term[eq + 1] == '=' ? eq + 2 : eq + 1);
      if (field_value(obj, term.substr(0, eq)) != want) return false;
    }
  }
  return true;
}

bool matches_label_selector(const json& obj, const std::string& selector) {
  if (selector.empty()) return true;
  for (const auto& term : split(selector, ',')) {
    if (term.empty()) continue;
    bool present = false;
    size_t ne = term.find("!=");
    size_t eq = term.find('=');
    if (ne != std::string::npos) {
      std::string v = label_value(obj, term.substr(0, ne), &present);
      if (present && v == term.substr(ne + 2)) return false;
    } else if (eq != std::string::npos) {
      std::string want = term.substr(term[eq + 1] == '=' ? eq + 2 : eq + 1);
      std::string v = label_value(obj, term.substr(0, eq), &present);
      if (!present || v != want) return false;
    } else if (term[0] == '!') {
      label_value(obj, term.substr(1), &present);
      if (present) return false;
    } else {
      label_value(obj, term, &present);
      if (!present) return false;
    }
  }
  return true;
}

std::string make_kubeconfig(uint16_t port, const std::string& ca_pem, const std::string& token) {
  std::ostringstream o;
  o << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
    << "clusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:" << port << "\n"
    << "    certificate-authority-data: " << base64(ca_pem) << "\n"
    << "users:\n- name: fake\n  user:\n    token: " << token << "\n"
    << "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n";
  return o.str();
}

FakeApiServer::FakeApiServer() : FakeApiServer(Options{}) {}

FakeApiServer::FakeApiServer(Options opts)
    : opts_(std::move(opts)),
      server_([this](const HttpRequest& r, HttpConnection& c) { handle(r, c); }, opts_.port) {}

FakeApiServer::~FakeApiServer() { stop(); }

void FakeApiServer::stop() {
  cv_.notify_all();
  server_.stop();
}

FakeApiServer::ResPath FakeApiServer::parse_path(const std::string& path) {
  ResPath rp;
  auto seg = split(path, '/');
  if (seg.empty() || !seg[0].empty()) return rp;
  seg.erase(seg.begin());
  while (!seg.empty() && seg.back().empty()) seg.pop_back();
  size_t i;
  std::string prefix;
  if (seg.size() >= 2 && seg[0] == "api") {
    prefix = "/api/" + seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    prefix = "/apis/" + seg[1] + "/" + seg[2];
    i = 3;
  } else {
    return rp;
  }
  std::vector<std::string> rest(seg.begin() + static_cast<long>(i), seg.end());
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    rp.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return rp;
  rp.type_key = prefix + "/" + rest[0];
  if (rest.size() >= 2) rp.name = rest[1];
  if (rest.size() == 3) rp.sub = rest[2];
  rp.ok = true;
  return rp;
}

std::string FakeApiServer::object_key(const json& obj) {
  std::string ns = field_value(obj, "metadata.namespace");
  std::string name = field_value(obj, "metadata.name");
  return ns.empty() ? name : ns + "/" + name;
}

uint64_t FakeApiServer::put_locked(const std::string& type_key, json obj, const std::string& type) {
  ++rv_;
  auto& meta = obj["metadata"];
  // metadata.generation as the real server keeps it: 1 at creation, +1 on every change of spec (status writes and
  // metadata-only changes leave it alone), so controllers can report observedGeneration.
  {
    auto& coll = store_[type_key];
    auto old = coll.find(object_key(obj));
    if (old == coll.end()) {
      meta["generation"] = 1;
    } else {
      int64_t g = old->second["metadata"].value("generation", int64_t{1});
      bool spec_changed = old->second.value("spec", json()) != obj.value("spec", json());
      meta["generation"] = spec_changed ? g + 1 : g;
    }
  }
  meta["resourceVersion"] = std::to_string(rv_);
  if (!meta.contains("uid")) meta["uid"] = "fake-uid-" + std::to_string(++uid_counter_);
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = now_rfc3339();
  store_[type_key][object_key(obj)] = obj;
  history_.push_back(HistoryEntry{rv_, type_key, type, std::move(obj)});
  cv_.notify_all();
  return rv_;
}

bool FakeApiServer::remove_locked(const std::string& type_key, const std::string& key) {
  auto t = store_.find(type_key);
  if (t == store_.end()) return false;
  auto it = t->second.find(key);
  if (it == t->second.end()) return false;
  json obj = std::move(it->second);
  t->second.erase(it);
  apply_owners_.erase(type_key + "\n" + key);
  ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv_);
  history_.push_back(HistoryEntry{rv_, type_key, "DELETED", std::move(obj)});
  cv_.notify_all();
  return true;
}

std::string FakeApiServer::list_kind_locked(const std::string& type_key) const {
  auto t = store_.find(type_key);
  if (t != store_.end())
    for (const auto& [k, o] : t->second)
      if (o.contains("kind") && o["kind"].is_string()) return o["kind"].get<std::string>() + "List";
  return "List";
}

uint64_t FakeApiServer::create(const std::string& collection, json obj) {
  ResPath rp = parse_path(collection);
  if (!rp.ok) throw std::invalid_argument("fake apiserver: bad collection path " + collection);
  if (!rp.ns.empty() && !obj["metadata"].contains("namespace")) obj["metadata"]["namespace"] = rp.ns;
  std::lock_guard lk(mu_);
  return put_locked(rp.type_key, std::move(obj), "ADDED");
}

uint64_t FakeApiServer::update(const std::string& collection, json obj) {
  ResPath rp = parse_path(collection);
  if (!rp.ok) throw std::invalid_argument("fake apiserver: bad collection path " + collection);
  if (!rp.ns.empty() && !obj["metadata"].contains("namespace")) obj["metadata"]["namespace"] = rp.ns;
  std::lock_guard lk(mu_);
  bool exists = store_[rp.type_key].count(object_key(obj)) != 0;
  if (exists) {
    const json& old = store_[rp.type_key][object_key(obj)];
    obj["metadata"]["uid"] = old["metadata"]["uid"];
  }
  return put_locked(rp.type_key, std::move(obj), exists ? "MODIFIED" : "ADDED");
}

bool FakeApiServer::remove(const std::string& collection, const std::string& ns, const std::string& name) {
  ResPath rp = parse_path(collection);
  std::lock_guard lk(mu_);
  return remove_locked(rp.type_key, ns.empty() ? name : ns + "/" + name);
}

std::optional<json> FakeApiServer::get(const std::string& collection, const std::string& ns,
                                       const std::string& name) const {
  ResPath rp = parse_path(collection);
  std::lock_guard lk(mu_);
  auto t = store_.find(rp.type_key);
  if (t == store_.end()) return std::nullopt;
  auto it = t->second.find(ns.empty() ? name : ns + "/" + name);
  if (it == t->second.end()) return std::nullopt;
  return it->second;
}

uint64_t FakeApiServer::resource_version() const {
  std::lock_guard lk(mu_);
  return rv_;
}

void FakeApiServer::compact() {
  std::lock_guard lk(mu_);
  compacted_rv_ = rv_;
  history_.clear();
}

void FakeApiServer::drop_watches() {
  std::lock_guard lk(mu_);
  ++drop_generation_;
  cv_.notify_all();
}

void FakeApiServer::pause_watches(bool on) {
  std::lock_guard lk(mu_);
  paused_ = on;
  cv_.notify_all();
}

void FakeApiServer::fail_next(int count, int status, std::string path_substring) {
  std::lock_guard lk(mu_);
  fail_count_ = count;
  fail_status_ = status;
  fail_path_ = std::move(path_substring);
}

std::vector<RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard lk(mu_);
  return recorded_;
}

std::vector<RecordedRequest> FakeApiServer::requests(const std::string& method,
                                                     const std::string& path_substring) const {
  std::lock_guard lk(mu_);
  std::vector<RecordedRequest> out;
  for (const auto& r : recorded_)
    if (r.method == method && r.path.find(path_substring) != std::string::npos) out.push_back(r);
  return out;
}

bool FakeApiServer::wait_for_watches(size_t n, std::chrono::milliseconds d) const {
  auto until = std::chrono::steady_clock::now() + d;
  while (active_watches_.load() < n) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

size_t FakeApiServer::record_start(const HttpRequest& req) {
  std::lock_guard lk(mu_);
  recorded_.push_back(RecordedRequest{req.method, req.path, req.params, req.header("content-type"), req.body, 0});
  return recorded_.size() - 1;
}

void FakeApiServer::record_end(size_t index, int status) {
  std::lock_guard lk(mu_);
  RecordedRequest& r = recorded_[index];
  r.status = status;
  if (!opts_.state_dir.empty()) {
    std::ofstream out(opts_.state_dir + "/requests.jsonl", std::ios::app);
    out << json{{"method", r.method}, {"path", r.path},     {"params", r.params},
                {"contentType", r.content_type}, {"body", r.body}, {"status", r.status}}
               .dump()
        << "\n";
  }
}

bool FakeApiServer::handle_control(const HttpRequest& req, HttpConnection& conn) {
  if (req.path.rfind("/fake/", 0) != 0) return false;
  std::string what = req.path.substr(6);
  bool on = req.param("on") != "0";
  if (what == "compact") {
    compact();
  } else if (what == "drop-watches") {
    drop_watches();
  } else if (what == "auth") {
    std::string m = req.param("mode");
    set_auth(m == "401" ? Auth::unauthorized : m == "403" ? Auth::forbidden : Auth::ok);
  } else if (what == "pause") {
    pause_watches(on);
  } else if (what == "gone-as-error") {
    set_gone_as_error_event(on);
  } else if (what == "requests") {
    json arr = json::array();
    for (const auto& r : requests())
      arr.push_back(json{{"method", r.method}, {"path", r.path}, {"params", r.params},
                         {"contentType", r.content_type}, {"body", r.body}, {"status", r.status}});
    conn.respond(200, "application/json", arr.dump());
    return true;
  } else {
    conn.respond(404, "text/plain", "unknown control endpoint");
    return true;
  }
  conn.respond(200, "text/plain", "ok");
  return true;
}

void FakeApiServer::handle(const HttpRequest& req, HttpConnection& conn) {
  if (handle_control(req, conn)) return;
  size_t index = record_start(req);
  if (delay_ms_.load() > 0 && !conn.sleep_for(std::chrono::milliseconds(delay_ms_.load()))) {
    record_end(index, 0);
    return;
  }
  record_end(index, serve_api(req, conn));
}

int FakeApiServer::serve_api(const HttpRequest& req, HttpConnection& conn) {
  auto reply = [&](int code, const json& body) {
    conn.respond(code, "application/json", body.dump());
    return code;
  };
  if (auth_ == Auth::unauthorized || req.header("authorization") != "Bearer " + opts_.token)
    return reply(401, status_body(401, "Unauthorized", "Unauthorized"));
  if (auth_ == Auth::forbidden)
    return reply(403, status_body(403, "Forbidden",
                                  "forbidden: User \"system:serviceaccount:kube-system:sloagent\" cannot " +
                                      req.method + " " + req.path));
  int injected = 0;
  {
    std::lock_guard lk(mu_);
    if (fail_count_ > 0 && req.path.find(fail_path_) != std::string::npos) {
      --fail_count_;
      injected = fail_status_;
    }
  }
  if (injected) return reply(injected, status_body(injected, "Injected", "injected failure"));
  ResPath rp = parse_path(req.path);
  if (!rp.ok) return reply(404, status_body(404, "NotFound", "the server could not find the requested resource"));
  std::string key = rp.ns.empty() ? rp.name : rp.ns + "/" + rp.name;

  if (req.method == "GET" && rp.name.empty()) {
    std::string w = req.param("watch");
    if (w == "true" || w == "1") return serve_watch(req, rp, conn);
    std::string fs = req.param("fieldSelector"), ls = req.param("labelSelector");
    json items = json::array();
    json list;
    {
      std::lock_guard lk(mu_);
      for (const auto& [k, o] : store_[rp.type_key]) {
        if (!rp.ns.empty() && field_value(o, "metadata.namespace") != rp.ns) continue;
        if (matches_field_selector(o, fs) && matches_label_selector(o, ls)) items.push_back(o);
      }
      list = json{{"kind", list_kind_locked(rp.type_key)},
                  {"apiVersion", "v1"},
                  {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                  {"items", std::move(items)}};
    }
    return reply(200, list);
  }

  if (req.method == "GET") {
    std::optional<json> found;
    {
      std::lock_guard lk(mu_);
      auto& coll = store_[rp.type_key];
      auto it = coll.find(key);
      if (it != coll.end()) found = it->second;
    }
    if (!found) return reply(404, status_body(404, "NotFound", rp.name + " not found"));
    return reply(200, *found);
  }

  json body = json::parse(req.body, nullptr, false);
  if (req.method != "DELETE" && body.is_discarded())
    return reply(400, status_body(400, "BadRequest", "request body is not JSON"));

  if (req.method == "POST" && rp.sub == "eviction") {
    if (!body.is_object() || body.value("kind", "") != "Eviction" || body.value("apiVersion", "") != "policy/v1")
      return reply(400, status_body(400, "BadRequest", "expected a policy/v1 Eviction"));
    int code = eviction_status_.load();
    if (code != 201)
      return reply(code, status_body(code, "TooManyRequests",
                                     "Cannot evict pod as it would violate the pod's disruption budget."));
    bool removed;
    {
      std::lock_guard lk(mu_);
      removed = remove_locked(rp.type_key, key);
    }
    if (!removed) return reply(404, status_body(404, "NotFound", "pods \"" + rp.name + "\" not found"));
    return reply(201, json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 201}});
  }

  if (req.method == "POST" && rp.name.empty()) {
    if (!body.is_object()) return reply(400, status_body(400, "BadRequest", "object expected"));
    auto& meta = body["metadata"];
    if (!rp.ns.empty()) meta["namespace"] = rp.ns;
    int code = 201;
    json created;
    {
      std::lock_guard lk(mu_);
      if (!meta.contains("name") && meta.contains("generateName"))
        meta["name"] = meta["generateName"].get<std::string>() + std::to_string(++uid_counter_);
      if (!meta.contains("name") || !meta["name"].is_string()) {
        code = 422;
        created = status_body(422, "Invalid", "metadata.name: Required value");
      } else if (store_[rp.type_key].count(object_key(body))) {
        code = 409;
        created = status_body(409, "AlreadyExists", meta["name"].get<std::string>() + " already exists");
      } else {
        put_locked(rp.type_key, body, "ADDED");
        created = store_[rp.type_key][object_key(body)];
      }
    }
    return reply(code, created);
  }

  if (req.method == "PATCH" && !rp.name.empty() && rp.sub == "status" &&
      req.header("content-type").find("apply-patch+yaml") != std::string::npos)
    return serve_status_apply(req, rp, body, conn);
  if ((req.method == "PATCH" || req.method == "PUT") && !rp.name.empty() && (rp.sub.empty() || rp.sub == "status")) {
    std::string ct = req.header("content-type");
    if (req.method == "PATCH" && ct.find("merge-patch+json") == std::string::npos)
      return reply(415, status_body(415, "UnsupportedMediaType",
                                    "fake supports merge patches (and apply on status) only, got " + ct));
    int code = 200;
    json updated;
    {
      std::lock_guard lk(mu_);
      auto& coll = store_[rp.type_key];
      auto it = coll.find(key);
      if (it == coll.end()) {
        code = 404;
        updated = status_body(404, "NotFound", rp.name + " not found");
      } else {
        json obj = it->second;
        if (req.method == "PATCH") {
          obj.merge_patch(body);
        } else {
          json keep_meta = obj["metadata"];
          obj = body;
          obj["metadata"]["uid"] = keep_meta["uid"];
        }
        put_locked(rp.type_key, obj, "MODIFIED");
        updated = coll[key];
      }
    }
    return reply(code, updated);
  }

  if (req.method == "DELETE" && !rp.name.empty()) {
    bool removed;
    {
      std::lock_guard lk(mu_);
      removed = remove_locked(rp.type_key, key);
    }
    if (!removed) return reply(404, status_body(404, "NotFound", rp.name + " not found"));
    return reply(200, json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}});
  }
  return reply(405, status_body(405, "MethodNotAllowed", req.method + " " + req.path));
}

int FakeApiServer::serve_status_apply(const HttpRequest& req, const ResPath& rp, const json& body,
                                      HttpConnection& conn) {
  auto reply = [&](int code, const json& b) {
    conn.respond(code, "application/json", b.dump());
    return code;
  };
  // The real server requires a field manager for apply and checks the object's identity against the URL.
  const std::string manager = req.param("fieldManager");
  if (manager.empty())
    return reply(422, status_body(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                                                  "value: is required for apply patch"));
  if (!body.is_object() || !body.contains("apiVersion") || !body.contains("kind") ||
      field_value(body, "metadata.name") != rp.name)
    return reply(400,
                 status_body(400, "BadRequest", "apply body needs apiVersion, kind and metadata.name = " + rp.name));
  const std::string key = rp.ns.empty() ? rp.name : rp.ns + "/" + rp.name;
  const std::string owner_key = rp.type_key + "\n" + key;
  std::lock_guard lk(mu_);
  auto& coll = store_[rp.type_key];
  auto it = coll.find(key);
  if (it == coll.end()) return reply(404, status_body(404, "NotFound", rp.name + " not found"));
  json obj = it->second;
  json& status = obj["status"];
  if (!status.is_object()) status = json::object();
  json applied = body.value("status", json::object());
  auto& owned = apply_owners_[owner_key][manager];  // node keys of status.nodes this manager applied before
  std::set<std::string> now_owned;
  for (const auto& [field, value] : applied.items()) {
    if (field != "nodes") {
      status[field] = value;  // scalar fields: last applier wins (force=true)
      continue;
    }
    if (!value.is_array()) return reply(422, status_body(422, "Invalid", "status.nodes must be a list"));
    json& nodes = status["nodes"];
    if (!nodes.is_array()) nodes = json::array();
    for (const auto& entry : value) {
      std::string node = entry.is_object() ? entry.value("node", "") : "";
      if (node.empty()) return reply(422, status_body(422, "Invalid", "status.nodes[].node: Required value"));
      now_owned.insert(node);
      bool replaced = false;
      for (auto& e : nodes)
        if (e.is_object() && e.value("node", "") == node) {
          e = entry;
          replaced = true;
        }
      if (!replaced) nodes.push_back(entry);
    }
  }
  // Entries this manager applied before and left out now are removed, as server-side apply does for list-map keys.
  if (status.contains("nodes") && status["nodes"].is_array()) {
    json kept = json::array();
    for (auto& e : status["nodes"]) {
      std::string node = e.is_object() ? e.value("node", "") : "";
      if (owned.count(node) && !now_owned.count(node)) continue;
      kept.push_back(e);
    }
    status["nodes"] = std::move(kept);
  }
  owned = std::move(now_owned);
  put_locked(rp.type_key, obj, "MODIFIED");
  return reply(200, coll[key]);
}

int FakeApiServer::serve_watch(const HttpRequest& req, const ResPath& rp, HttpConnection& conn) {
  ++watch_requests_;
  const std::string fs = req.param("fieldSelector"), ls = req.param("labelSelector");
  const bool bookmarks = req.param("allowWatchBookmarks") == "true";
  const std::string rv_param = req.param("resourceVersion");
  auto lifetime = std::chrono::milliseconds(std::chrono::seconds(1800));
  if (req.has_param("timeoutSeconds")) lifetime = std::chrono::seconds(std::stoll(req.param("timeoutSeconds")));
  if (opts_.max_watch.count() > 0 && opts_.max_watch < lifetime) lifetime = opts_.max_watch;
  const auto deadline = std::chrono::steady_clock::now() + lifetime;

  auto matches = [&](const json& o) {
    if (!rp.ns.empty() && field_value(o, "metadata.namespace") != rp.ns) return false;
    return matches_field_selector(o, fs) && matches_label_selector(o, ls);
  };
  auto line = [](const std::string& type, const json& o) { return json{{"type", type}, {"object", o}}.dump() + "\n"; };

  std::unique_lock lk(mu_);
  uint64_t cursor;
  std::vector<std::string> pending;
  if (rv_param.empty() || rv_param == "0") {
    // Like the real server: "0"/absent starts with synthetic ADDED events for the current state.
    cursor = rv_;
    for (const auto& [k, o] : store_[rp.type_key])
      if (matches(o)) pending.push_back(line("ADDED", o));
  } else {
    cursor = std::stoull(rv_param);
    if (cursor < compacted_rv_) {
      std::string msg = "too old resource version: " + rv_param + " (" + std::to_string(compacted_rv_) + ")";
      lk.unlock();
      if (gone_as_error_event_) {
        if (conn.begin_chunked(200, "application/json") &&
            conn.write_chunk(line("ERROR", status_body(410, "Expired", msg))))
          conn.end_chunked();
        return 200;
      }
      conn.respond(410, "application/json", status_body(410, "Expired", msg).dump());
      return 410;
    }
  }
  const uint64_t my_generation = drop_generation_;
  const std::string kind = list_kind_locked(rp.type_key);
  lk.unlock();
  if (!conn.begin_chunked(200, "application/json")) return 200;
  ++active_watches_;
  struct Leave {
    std::atomic<size_t>& n;
    ~Leave() { --n; }
  } leave{active_watches_};

  auto next_bookmark = std::chrono::steady_clock::now() + opts_.bookmark_interval;
  for (;;) {
    if (!pending.empty()) {
      for (const auto& l : pending)
        if (!conn.write_chunk(l)) return 200;
      pending.clear();
    }
    if (!conn.alive()) return 200;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      conn.end_chunked();  // a clean server-side timeout
      return 200;
    }
    lk.lock();
    cv_.wait_for(lk, std::chrono::milliseconds(20));
    if (drop_generation_ != my_generation) {
      lk.unlock();
      conn.abort();
      return 200;
    }
    if (!paused_) {
      for (const auto& h : history_) {
        if (h.rv <= cursor) continue;
        if (h.type_key == rp.type_key && matches(h.object)) pending.push_back(line(h.type, h.object));
        cursor = h.rv;
      }
      if (cursor < rv_ && history_.empty()) cursor = rv_;  // after a compaction nothing older can be replayed
      if (bookmarks && std::chrono::steady_clock::now() >= next_bookmark) {
        // Everything up to rv_ is either in `pending` or filtered out, so rv_ is a safe bookmark.
        std::string k = kind.size() > 4 ? kind.substr(0, kind.size() - 4) : std::string("Object");
        pending.push_back(line("BOOKMARK", json{{"kind", k},
                                                {"apiVersion", "v1"},
                                                {"metadata", {{"resourceVersion", std::to_string(rv_)}}}}));
        cursor = std::max(cursor, rv_);
        next_bookmark = std::chrono::steady_clock::now() + opts_.bookmark_interval;
      }
    }
    lk.unlock();
  }
}

}  // namespace slo::fakes
