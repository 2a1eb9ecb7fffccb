#include "driver.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "format.h"

namespace corral::compat {

namespace {

constexpr int kSessionTimeoutMs = 10000;
constexpr size_t kDataBufferBytes = 2 * 1024 * 1024;
constexpr const char* kSentinelRoot = "/compat-sentinels";

/// An ACL_vector pointing into an Acl; valid while the Acl lives.
class AclVector {
 public:
  explicit AclVector(const Acl& acl) {
    entries_.reserve(acl.size());
    for (const auto& e : acl) {
      entries_.push_back(
          ACL{e.perms, Id{const_cast<char*>(e.scheme.c_str()), const_cast<char*>(e.id.c_str())}});
    }
    vec_.count = static_cast<int32_t>(entries_.size());
    vec_.data = entries_.empty() ? nullptr : entries_.data();
  }
  const ACL_vector* get() const { return &vec_; }

 private:
  std::vector<ACL> entries_;
  ACL_vector vec_{};
};

std::string sorted_children(const String_vector& sv) {
  std::vector<std::string> names(sv.data, sv.data + sv.count);
  std::sort(names.begin(), names.end());
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

std::string acl_arg(const Acl& acl) {
  std::string out = "[";
  for (size_t i = 0; i < acl.size(); ++i) {
    out += (i ? ", " : "") + perms_name(acl[i].perms) + " " + acl[i].scheme + ":" + acl[i].id;
  }
  return out + "]";
}

std::string watch_arg(const Watch& w) { return w.tag.empty() ? "" : " watch=" + w.tag; }

struct AuthWait {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
};

void on_auth(int rc, const void* data) {
  auto* token = static_cast<std::shared_ptr<AuthWait>*>(const_cast<void*>(data));
  {
    std::lock_guard lock((*token)->mu);
    (*token)->done = true;
    (*token)->rc = rc;
    (*token)->cv.notify_all();
  }
  delete token;
}

}  // namespace

Acl open_acl() { return {{ZOO_PERM_ALL, "world", "anyone"}}; }

MultiOp MultiOp::create(std::string path, std::string data, int flags) {
  return MultiOp{kCreate, std::move(path), std::move(data), flags, -1};
}
MultiOp MultiOp::remove(std::string path, int version) {
  return MultiOp{kDelete, std::move(path), "", 0, version};
}
MultiOp MultiOp::set(std::string path, std::string data, int version) {
  return MultiOp{kSet, std::move(path), std::move(data), 0, version};
}
MultiOp MultiOp::check(std::string path, int version) {
  return MultiOp{kCheck, std::move(path), "", 0, version};
}

Driver::Driver(std::string hosts, std::ostream& out)
    : hosts_(std::move(hosts)), out_(out), buffer_(kDataBufferBytes) {}

Driver::~Driver() = default;

ZkSession& Driver::session(const std::string& name) {
  auto& slot = sessions_[name];
  if (slot && slot->open()) return *slot;
  slot = std::make_unique<ZkSession>(name, hosts_, kSessionTimeoutMs);
  if (slot->zh() == nullptr || !slot->wait_connected(std::chrono::seconds(15))) {
    throw std::runtime_error("session " + name + " could not connect to " + hosts_);
  }
  session_names_[slot->id()] = name;
  return *slot;
}

ZkSession& Driver::observer() {
  if (!observer_) {
    observer_ = std::make_unique<ZkSession>("observer", hosts_, kSessionTimeoutMs);
    if (observer_->zh() == nullptr || !observer_->wait_connected(std::chrono::seconds(15))) {
      throw std::runtime_error("observer session could not connect to " + hosts_);
    }
    zoo_create(observer_->zh(), kSentinelRoot, nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
  }
  return *observer_;
}

// The C client's zookeeper_close returns once the close request is sent, not answered. To
// know when the server has ended the session, the session owns an ephemeral sentinel (outside
// every scenario's subtree) that the observer session watches.
bool Driver::watch_sentinel(ZkSession& s, std::string& sentinel) {
  if (zoo_state(s.zh()) != ZOO_CONNECTED_STATE) return false;
  ZkSession& obs = observer();
  char id[32];
  std::snprintf(id, sizeof id, "/%016llx", static_cast<unsigned long long>(s.id()));
  sentinel = std::string(kSentinelRoot) + id;
  struct Stat st {};
  return zoo_create(s.zh(), sentinel.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL,
                    nullptr, 0) == ZOK &&
         zoo_wexists(obs.zh(), sentinel.c_str(), ZkSession::watcher(), obs.watcher_ctx("sentinel"),
                     &st) == ZOK;
}

void Driver::close(const std::string& name) {
  auto it = sessions_.find(name);
  if (it == sessions_.end() || !it->second->open()) return;
  std::string sentinel;
  bool watched = watch_sentinel(*it->second, sentinel);
  it->second->close();
  bool ended = true;
  if (watched) {
    auto evs = observer().take_events(1, std::chrono::seconds(15));
    ended = evs.size() == 1 && evs[0].type == ZOO_DELETED_EVENT;
  }
  line(name + " close" + (ended ? "" : " (the server did not end the session in time)"));
}

void Driver::note(const std::string& text) { line("# " + text); }

void Driver::line(const std::string& text) { out_ << text << '\n' << std::flush; }

std::string Driver::zxid_label(int64_t zxid) {
  if (zxid == 0) return "0";
  auto [it, inserted] = zxid_labels_.try_emplace(zxid, "");
  if (inserted) it->second = "z" + std::to_string(zxid_labels_.size());
  return it->second;
}

std::string Driver::owner_label(int64_t owner) {
  if (owner == 0) return "0";
  auto it = session_names_.find(owner);
  if (it != session_names_.end()) return it->second;
  // Containers and TTL nodes encode their type (and TTL) in ephemeralOwner: deterministic.
  auto high = static_cast<uint64_t>(owner) >> 56;
  if (high == 0x80 || high == 0xff) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(owner));
    return buf;
  }
  return "other-session";
}

std::string Driver::stat_text(const struct Stat& st) {
  std::string cz = zxid_label(st.czxid);
  std::string mz = zxid_label(st.mzxid);
  std::string pz = zxid_label(st.pzxid);
  char buf[160];
  std::snprintf(buf, sizeof buf, "{v=%d cv=%d av=%d len=%d nc=%d", st.version, st.cversion,
                st.aversion, st.dataLength, st.numChildren);
  return std::string(buf) + " eo=" + owner_label(st.ephemeralOwner) + " cz=" + cz + " mz=" + mz +
         " pz=" + pz + "}";
}

int Driver::create(ZkSession& s, const std::string& path, std::optional<std::string> data,
                   int flags, const Acl& acl, std::optional<int64_t> ttl, bool with_stat) {
  AclVector av(acl);
  char created[1024] = {0};
  struct Stat st {};
  const char* value = data ? data->data() : nullptr;
  int len = data ? static_cast<int>(data->size()) : -1;
  int rc;
  std::string op = with_stat ? "create2" : "create";
  if (ttl) {
    op += "_ttl(" + std::to_string(*ttl) + ")";
    rc = with_stat ? zoo_create2_ttl(s.zh(), path.c_str(), value, len, av.get(), flags, *ttl,
                                     created, sizeof created, &st)
                   : zoo_create_ttl(s.zh(), path.c_str(), value, len, av.get(), flags, *ttl,
                                    created, sizeof created);
  } else {
    rc = with_stat ? zoo_create2(s.zh(), path.c_str(), value, len, av.get(), flags, created,
                                 sizeof created, &st)
                   : zoo_create(s.zh(), path.c_str(), value, len, av.get(), flags, created,
                                sizeof created);
  }
  std::string text = s.name() + " " + op + " " + path + " " + quote_data(value, len) + " " +
                     create_mode_name(flags);
  if (acl.size() != 1 || acl[0].scheme != "world") text += " acl=" + acl_arg(acl);
  text += " -> " + rc_name(rc);
  if (rc == ZOK) {
    last_created_ = created;
    text += std::string(" ") + created;
    if (with_stat) text += " " + stat_text(st);
  }
  line(text);
  return rc;
}

int Driver::remove(ZkSession& s, const std::string& path, int version) {
  int rc = zoo_delete(s.zh(), path.c_str(), version);
  line(s.name() + " delete " + path + " v=" + std::to_string(version) + " -> " + rc_name(rc));
  return rc;
}

int Driver::exists(ZkSession& s, const std::string& path, const Watch& w) {
  struct Stat st {};
  int rc;
  if (w.tag.empty() || w.tag == "default") {
    rc = zoo_exists(s.zh(), path.c_str(), w.tag.empty() ? 0 : 1, &st);
  } else {
    rc = zoo_wexists(s.zh(), path.c_str(), ZkSession::watcher(), s.watcher_ctx(w.tag), &st);
  }
  std::string text = s.name() + " exists " + path + watch_arg(w) + " -> " + rc_name(rc);
  if (rc == ZOK) text += " " + stat_text(st);
  line(text);
  return rc;
}

int Driver::get(ZkSession& s, const std::string& path, const Watch& w) {
  struct Stat st {};
  int len = static_cast<int>(buffer_.size());
  int rc;
  if (w.tag.empty() || w.tag == "default") {
    rc = zoo_get(s.zh(), path.c_str(), w.tag.empty() ? 0 : 1, buffer_.data(), &len, &st);
  } else {
    rc = zoo_wget(s.zh(), path.c_str(), ZkSession::watcher(), s.watcher_ctx(w.tag), buffer_.data(),
                  &len, &st);
  }
  std::string text = s.name() + " get " + path + watch_arg(w) + " -> " + rc_name(rc);
  if (rc == ZOK) text += " " + quote_data(buffer_.data(), len) + " " + stat_text(st);
  line(text);
  return rc;
}

int Driver::set(ZkSession& s, const std::string& path, std::optional<std::string> data,
                int version) {
  struct Stat st {};
  const char* value = data ? data->data() : nullptr;
  int len = data ? static_cast<int>(data->size()) : -1;
  int rc = zoo_set2(s.zh(), path.c_str(), value, len, version, &st);
  std::string text = s.name() + " set " + path + " " + quote_data(value, len) +
                     " v=" + std::to_string(version) + " -> " + rc_name(rc);
  if (rc == ZOK) text += " " + stat_text(st);
  line(text);
  return rc;
}

int Driver::children(ZkSession& s, const std::string& path, const Watch& w) {
  struct Stat st {};
  String_vector sv{};
  int rc;
  if (w.tag.empty() || w.tag == "default") {
    rc = zoo_get_children2(s.zh(), path.c_str(), w.tag.empty() ? 0 : 1, &sv, &st);
  } else {
    rc = zoo_wget_children2(s.zh(), path.c_str(), ZkSession::watcher(), s.watcher_ctx(w.tag), &sv,
                            &st);
  }
  std::string text = s.name() + " ls2 " + path + watch_arg(w) + " -> " + rc_name(rc);
  if (rc == ZOK) text += " " + sorted_children(sv) + " " + stat_text(st);
  deallocate_String_vector(&sv);
  line(text);
  return rc;
}

int Driver::children1(ZkSession& s, const std::string& path, const Watch& w) {
  String_vector sv{};
  int rc;
  if (w.tag.empty() || w.tag == "default") {
    rc = zoo_get_children(s.zh(), path.c_str(), w.tag.empty() ? 0 : 1, &sv);
  } else {
    rc = zoo_wget_children(s.zh(), path.c_str(), ZkSession::watcher(), s.watcher_ctx(w.tag), &sv);
  }
  std::string text = s.name() + " ls " + path + watch_arg(w) + " -> " + rc_name(rc);
  if (rc == ZOK) text += " " + sorted_children(sv);
  deallocate_String_vector(&sv);
  line(text);
  return rc;
}

int Driver::get_acl(ZkSession& s, const std::string& path, bool sorted) {
  ACL_vector acl{};
  struct Stat st {};
  int rc = zoo_get_acl(s.zh(), path.c_str(), &acl, &st);
  std::string text =
      s.name() + " getacl " + path + (sorted ? " sorted" : "") + " -> " + rc_name(rc);
  if (rc == ZOK && sorted) {
    std::sort(acl.data, acl.data + acl.count, [](const ACL& x, const ACL& y) {
      auto key = [](const ACL& a) {
        return std::tuple(a.perms, std::string_view(a.id.scheme), std::string_view(a.id.id));
      };
      return key(x) < key(y);
    });
  }
  if (rc == ZOK) text += " " + acl_text(acl) + " " + stat_text(st);
  deallocate_ACL_vector(&acl);
  line(text);
  return rc;
}

int Driver::set_acl(ZkSession& s, const std::string& path, int version, const Acl& acl) {
  AclVector av(acl);
  int rc = zoo_set_acl(s.zh(), path.c_str(), version, av.get());
  line(s.name() + " setacl " + path + " v=" + std::to_string(version) + " " + acl_arg(acl) +
       " -> " + rc_name(rc));
  return rc;
}

int Driver::add_auth(ZkSession& s, const std::string& scheme, const std::string& cert) {
  // Heap-allocated and released by whoever finishes last: the completion may still run after
  // a timeout here.
  auto w = std::make_shared<AuthWait>();
  auto* token = new std::shared_ptr<AuthWait>(w);
  int rc = zoo_add_auth(s.zh(), scheme.c_str(), cert.data(), static_cast<int>(cert.size()),
                        &on_auth, token);
  if (rc != ZOK) {
    delete token;
  } else {
    std::unique_lock lock(w->mu);
    bool done = w->cv.wait_for(lock, std::chrono::seconds(10), [&] { return w->done; });
    rc = done ? w->rc : ZOPERATIONTIMEOUT;
  }
  line(s.name() + " addauth " + scheme + " " + cert + " -> " + rc_name(rc) +
       " state=" + state_name(zoo_state(s.zh())));
  return rc;
}

int Driver::multi(ZkSession& s, const std::vector<MultiOp>& ops) {
  std::vector<zoo_op_t> zops(ops.size());
  std::vector<zoo_op_result_t> results(ops.size());
  std::vector<std::vector<char>> paths(ops.size(), std::vector<char>(1024, 0));
  std::vector<struct Stat> stats(ops.size());
  Acl world = open_acl();  // AclVector points into it
  AclVector open(world);
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    switch (op.kind) {
      case MultiOp::kCreate:
        zoo_create_op_init(&zops[i], op.path.c_str(), op.data.data(),
                           static_cast<int>(op.data.size()), open.get(), op.flags, paths[i].data(),
                           static_cast<int>(paths[i].size()));
        break;
      case MultiOp::kDelete:
        zoo_delete_op_init(&zops[i], op.path.c_str(), op.version);
        break;
      case MultiOp::kSet:
        zoo_set_op_init(&zops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                        op.version, &stats[i]);
        break;
      case MultiOp::kCheck:
        zoo_check_op_init(&zops[i], op.path.c_str(), op.version);
        break;
    }
  }
  int rc = zoo_multi(s.zh(), static_cast<int>(ops.size()), zops.data(), results.data());
  line(s.name() + " multi " + std::to_string(ops.size()) + " -> " + rc_name(rc));
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    static const char* kinds[] = {"create", "delete", "set", "check"};
    std::string text = "  [" + std::to_string(i) + "] " + kinds[op.kind] + " " + op.path;
    if (op.kind == MultiOp::kCreate) text += " " + create_mode_name(op.flags);
    if (op.kind == MultiOp::kSet) text += " " + quote_data(op.data.data(), op.data.size());
    if (op.kind != MultiOp::kCreate) text += " v=" + std::to_string(op.version);
    text += " -> " + rc_name(results[i].err);
    if (rc == ZOK && op.kind == MultiOp::kCreate) text += std::string(" ") + paths[i].data();
    if (rc == ZOK && op.kind == MultiOp::kSet) text += " " + stat_text(stats[i]);
    line(text);
  }
  return rc;
}

int Driver::remove_watches(ZkSession& s, const std::string& path, int type, const std::string& tag,
                           bool local) {
  watcher_fn fn = tag.empty() ? nullptr : ZkSession::watcher();
  void* ctx = tag.empty() ? nullptr : s.watcher_ctx(tag);
  int rc = zoo_remove_watches(s.zh(), path.c_str(), static_cast<ZooWatcherType>(type), fn, ctx,
                              local ? 1 : 0);
  static const char* types[] = {"?", "CHILD", "DATA", "ANY"};
  line(s.name() + " removewatches " + path + " " + types[type & 3] +
       (tag.empty() ? " all" : " watcher=" + tag) + (local ? " local" : "") + " -> " + rc_name(rc));
  return rc;
}

void Driver::events(ZkSession& s, size_t expected, std::chrono::milliseconds timeout, bool sorted,
                    bool quiet) {
  auto evs = s.take_events(expected, timeout);
  std::vector<std::string> lines;
  for (const auto& e : evs) {
    std::string text = s.name() + " event " + e.watcher + " " + event_type_name(e.type) + " " +
                       (e.path.empty() ? "-" : e.path);
    if (e.state != ZOO_CONNECTED_STATE) text += " state=" + state_name(e.state);
    lines.push_back(text);
  }
  if (sorted) std::sort(lines.begin(), lines.end());
  if (lines.empty() && !quiet) line(s.name() + " no events");
  for (const auto& l : lines) line(l);
}

void Driver::wait_deleted(ZkSession& s, const std::string& path,
                          std::chrono::milliseconds timeout) {
  struct Stat st {};
  std::string tag = "until-gone";
  int rc = zoo_wexists(s.zh(), path.c_str(), ZkSession::watcher(), s.watcher_ctx(tag), &st);
  if (rc == ZOK) {
    s.take_events(1, timeout);
    rc = zoo_exists(s.zh(), path.c_str(), 0, &st);
  }
  std::string result = rc == ZNONODE ? "gone" : rc == ZOK ? "still-there" : rc_name(rc);
  line(s.name() + " wait-deleted " + path + " -> " + result);
}

void Driver::cleanup(ZkSession& s, const std::string& path) {
  String_vector sv{};
  if (zoo_get_children(s.zh(), path.c_str(), 0, &sv) != ZOK) return;
  for (int i = 0; i < sv.count; ++i) cleanup(s, path + "/" + sv.data[i]);
  deallocate_String_vector(&sv);
  zoo_delete(s.zh(), path.c_str(), -1);
}

}  // namespace corral::compat
