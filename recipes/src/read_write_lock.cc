#include "corral/recipes/read_write_lock.h"

#include "corral/recipes/node_names.h"
#include "lock_core.h"

namespace corral::recipes {

namespace {

constexpr const char* kReadMarker = "__READ__";
constexpr const char* kWriteMarker = "__WRIT__";

bool is_writer(const std::string& name) { return name.find(kWriteMarker) != std::string::npos; }

}  // namespace

ReadWriteLock::ReadWriteLock(client::Client& client, std::string path, std::string id) {
  std::vector<std::string> markers = {kReadMarker, kWriteMarker};
  auto writer = std::make_shared<detail::LockCore>(
      client, path, kWriteMarker, id, detail::QueueRule{markers, detail::first_in_line});
  // A reader waits for the last writer queued before it, unless that writer is this lock's
  // own write side (a writer taking the read lock too, to downgrade).
  std::weak_ptr<detail::LockCore> own_writer = writer;
  auto read_blocker = [own_writer](const std::vector<std::string>& order, size_t mine) {
    std::string own;
    if (auto w = own_writer.lock(); w && w->held()) own = node_name(w->grant().node);
    for (size_t i = mine; i-- > 0;)
      if (is_writer(order[i]) && order[i] != own) return order[i];
    return std::string();
  };
  auto reader = std::make_shared<detail::LockCore>(client, path, kReadMarker, std::move(id),
                                                   detail::QueueRule{markers, read_blocker});
  writer_.reset(new Mutex(path, std::move(writer)));
  reader_.reset(new Mutex(std::move(path), std::move(reader)));
}

}  // namespace corral::recipes
