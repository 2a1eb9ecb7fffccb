#include "watch_table.h"

#include "wire/path.h"

namespace corral::client {

void WatchTable::register_for_reply(const PendingWatch& w, ErrorCode err) {
  if (w.kind == WatchKind::kNone || !w.watcher) return;
  bool ok = err == ErrorCode::kOk;
  switch (w.kind) {
    case WatchKind::kData:
      if (ok) data_[w.path].push_back(w.watcher);
      return;
    case WatchKind::kExists:
      if (ok)
        data_[w.path].push_back(w.watcher);
      else if (err == ErrorCode::kNoNode)
        exist_[w.path].push_back(w.watcher);
      return;
    case WatchKind::kChild:
      if (ok) child_[w.path].push_back(w.watcher);
      return;
    case WatchKind::kPersistent:
      if (ok) persistent_[w.path].push_back(w.watcher);
      return;
    case WatchKind::kPersistentRecursive:
      if (ok) recursive_[w.path].push_back(w.watcher);
      return;
    case WatchKind::kNone:
      return;
  }
}

void WatchTable::take(Table& t, const std::string& path, std::vector<Watcher>& out) {
  auto it = t.find(path);
  if (it == t.end()) return;
  for (auto& w : it->second) out.push_back(std::move(w));
  t.erase(it);
}

void WatchTable::copy(const Table& t, std::string_view path, std::vector<Watcher>& out) {
  if (t.empty()) return;
  auto it = t.find(path);
  if (it != t.end()) out.insert(out.end(), it->second.begin(), it->second.end());
}

std::vector<Watcher> WatchTable::trigger(EventType type, const std::string& path) {
  std::vector<Watcher> out;
  switch (type) {
    case EventType::kNodeCreated:
    case EventType::kNodeDataChanged:
      take(data_, path, out);
      take(exist_, path, out);
      break;
    case EventType::kNodeChildrenChanged:
      take(child_, path, out);
      break;
    case EventType::kNodeDeleted:
      take(data_, path, out);
      take(exist_, path, out);
      take(child_, path, out);
      break;
    default:
      return out;
  }
  copy(persistent_, path, out);
  // A recursive watch promises no child events (ZooKeeper filters them on the client too:
  // the server sends them for ordinary child watches on the same connection).
  if (type == EventType::kNodeChildrenChanged || recursive_.empty()) return out;
  // Only an absolute path has parents to walk (a malformed event's path would walk forever).
  for (std::string_view p = path; !p.empty() && p.front() == '/'; p = wire::parent_path(p)) {
    copy(recursive_, p, out);
    if (p == "/") break;
  }
  return out;
}

std::vector<std::pair<Watcher, EventType>> WatchTable::remove(const std::string& path,
                                                              WatcherType type) {
  std::vector<std::pair<Watcher, EventType>> out;
  auto move_out = [&](Table& t, EventType event) {
    std::vector<Watcher> ws;
    take(t, path, ws);
    for (auto& w : ws) out.emplace_back(std::move(w), event);
  };
  if (type == WatcherType::kData || type == WatcherType::kAny) {
    move_out(data_, EventType::kDataWatchRemoved);
    move_out(exist_, EventType::kDataWatchRemoved);
  }
  if (type == WatcherType::kChildren || type == WatcherType::kAny)
    move_out(child_, EventType::kChildWatchRemoved);
  if (type == WatcherType::kAny) {
    move_out(persistent_, EventType::kPersistentWatchRemoved);
    move_out(recursive_, EventType::kPersistentWatchRemoved);
  }
  return out;
}

std::vector<wire::SetWatchesRequest> WatchTable::to_set_watches(int64_t relative_zxid,
                                                                size_t max_bytes) const {
  std::vector<wire::SetWatchesRequest> out(1);
  out.back().relative_zxid = relative_zxid;
  size_t bytes = 0;
  auto add = [&](const Table& t, std::vector<std::string> wire::SetWatchesRequest::*list) {
    for (const auto& [path, ws] : t) {
      if (ws.empty()) continue;
      if (bytes > 0 && bytes + path.size() + 4 > max_bytes) {
        out.emplace_back();
        out.back().relative_zxid = relative_zxid;
        bytes = 0;
      }
      (out.back().*list).push_back(path);
      bytes += path.size() + 4;
    }
  };
  add(data_, &wire::SetWatchesRequest::data_watches);
  add(exist_, &wire::SetWatchesRequest::exist_watches);
  add(child_, &wire::SetWatchesRequest::child_watches);
  add(persistent_, &wire::SetWatchesRequest::persistent_watches);
  add(recursive_, &wire::SetWatchesRequest::persistent_recursive_watches);
  if (bytes == 0) out.pop_back();  // no watch at all
  return out;
}

bool WatchTable::empty() const {
  return data_.empty() && exist_.empty() && child_.empty() && persistent_.empty() &&
         recursive_.empty();
}

void WatchTable::clear() {
  data_.clear();
  exist_.clear();
  child_.clear();
  persistent_.clear();
  recursive_.clear();
}

}  // namespace corral::client
