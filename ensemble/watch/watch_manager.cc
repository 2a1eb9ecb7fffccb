#include "ensemble/watch/watch_manager.h"

#include <set>

#include "wire/path.h"

namespace corral::watch {

using wire::EventType;

void WatchManager::add_data_watch(const std::string& path, WatcherId w) {
  data_[path].try_emplace(w, WatchMode::kStandard);
}

void WatchManager::add_child_watch(const std::string& path, WatcherId w) {
  child_[path].try_emplace(w, WatchMode::kStandard);
}

void WatchManager::add_persistent(const std::string& path, WatcherId w, bool recursive) {
  WatchMode mode = recursive ? WatchMode::kPersistentRecursive : WatchMode::kPersistent;
  for (Table* t : {&data_, &child_}) {
    WatchMode& m = (*t)[path][w];
    if (m == WatchMode::kPersistentRecursive) --recursive_count_;
    m = mode;
    if (mode == WatchMode::kPersistentRecursive) ++recursive_count_;
  }
}

std::vector<Delivery> WatchManager::trigger(const std::string& path, EventType type) {
  std::vector<Delivery> out;
  std::unordered_set<WatcherId> seen;
  bool data_event = type != EventType::kNodeChildrenChanged;
  bool child_event = type == EventType::kNodeChildrenChanged || type == EventType::kNodeDeleted;
  if (data_event) collect(data_, path, type, seen, out);
  if (child_event) collect(child_, path, type, seen, out);
  if (!has_recursive() || type == EventType::kNodeChildrenChanged) return out;
  // Recursive watches on ancestors see creates, deletes and data changes below them.
  std::string_view p = path;
  while (p != "/") {
    p = wire::parent_path(p);
    auto it = data_.find(std::string(p));
    if (it == data_.end()) continue;
    for (const auto& [w, mode] : it->second)
      if (mode == WatchMode::kPersistentRecursive && seen.insert(w).second)
        out.push_back({w, type, path});
  }
  return out;
}

void WatchManager::collect(Table& table, const std::string& path, EventType type,
                           std::unordered_set<WatcherId>& seen, std::vector<Delivery>& out) {
  auto it = table.find(path);
  if (it == table.end()) return;
  Watchers& ws = it->second;
  for (auto w = ws.begin(); w != ws.end();) {
    bool recursive_child_event =
        w->second == WatchMode::kPersistentRecursive && type == EventType::kNodeChildrenChanged;
    if (!recursive_child_event && seen.insert(w->first).second)
      out.push_back({w->first, type, path});
    if (w->second == WatchMode::kStandard)
      w = ws.erase(w);
    else
      ++w;
  }
  if (ws.empty()) table.erase(it);
}

bool WatchManager::contains(const std::string& path, WatcherId w, wire::WatcherType type) const {
  auto in = [&](const Table& t) {
    auto it = t.find(path);
    return it != t.end() && it->second.count(w) > 0;
  };
  switch (type) {
    case wire::WatcherType::kChildren:
      return in(child_);
    case wire::WatcherType::kData:
      return in(data_);
    default:
      return in(child_) || in(data_);
  }
}

bool WatchManager::remove_from(Table& table, const std::string& path, WatcherId w) {
  auto it = table.find(path);
  if (it == table.end()) return false;
  bool removed = it->second.erase(w) > 0;
  if (it->second.empty()) table.erase(it);
  return removed;
}

bool WatchManager::remove(const std::string& path, WatcherId w, wire::WatcherType type) {
  auto recursive_here = [&](const Table& t) {
    auto it = t.find(path);
    if (it == t.end()) return false;
    auto m = it->second.find(w);
    return m != it->second.end() && m->second == WatchMode::kPersistentRecursive;
  };
  bool removed = false;
  if (type == wire::WatcherType::kChildren || type == wire::WatcherType::kAny) {
    if (recursive_here(child_)) --recursive_count_;
    removed |= remove_from(child_, path, w);
  }
  if (type == wire::WatcherType::kData || type == wire::WatcherType::kAny) {
    if (recursive_here(data_)) --recursive_count_;
    removed |= remove_from(data_, path, w);
  }
  return removed;
}

void WatchManager::remove_watcher(WatcherId w) {
  for (Table* t : {&data_, &child_}) {
    for (auto it = t->begin(); it != t->end();) {
      auto m = it->second.find(w);
      if (m != it->second.end()) {
        if (m->second == WatchMode::kPersistentRecursive) --recursive_count_;
        it->second.erase(m);
      }
      it = it->second.empty() ? t->erase(it) : std::next(it);
    }
  }
}

size_t WatchManager::watch_count() const {
  size_t n = 0;
  for (const Table* t : {&data_, &child_})
    for (const auto& [path, ws] : *t) n += ws.size();
  return n;
}

size_t WatchManager::path_count() const {
  std::set<std::string_view> paths;
  for (const Table* t : {&data_, &child_})
    for (const auto& [path, ws] : *t) paths.insert(path);
  return paths.size();
}

std::unordered_map<WatcherId, std::vector<std::string>> WatchManager::by_watcher() const {
  std::unordered_map<WatcherId, std::set<std::string>> sets;
  for (const Table* t : {&data_, &child_})
    for (const auto& [path, ws] : *t)
      for (const auto& [w, mode] : ws) sets[w].insert(path);
  std::unordered_map<WatcherId, std::vector<std::string>> out;
  for (auto& [w, s] : sets) out[w].assign(s.begin(), s.end());
  return out;
}

}  // namespace corral::watch
