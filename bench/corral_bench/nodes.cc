#include "bench/corral_bench/nodes.h"

#include <asio/use_future.hpp>
#include <condition_variable>
#include <mutex>

namespace corral::bench {

using client::ErrorCode;

ErrorCounts pipelined(size_t n, size_t window, const std::function<void(size_t, OpDone)>& start) {
  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  ErrorCounts errors;
  auto done = [&](ErrorCode err) {
    std::lock_guard lock(mu);
    --in_flight;
    if (err != ErrorCode::kOk) ++errors[err];
    cv.notify_all();
  };
  for (size_t i = 0; i < n; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    start(i, done);
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  return errors;
}

ErrorCode ensure_node(client::Client& c, const std::string& path) {
  auto r = c.create(path, "", client::CreateOptions(), asio::use_future).get();
  return r.error() == ErrorCode::kNodeExists ? ErrorCode::kOk : r.error();
}

ErrorCounts remove_tree(client::Client& c, const std::string& path) {
  ErrorCounts errors;
  auto listed = c.children(path, nullptr, asio::use_future).get();
  if (listed.error() == ErrorCode::kNoNode) return errors;
  if (!listed) return {{listed.error(), 1}};
  const auto& kids = listed->children;
  std::vector<std::string> nonempty;
  std::mutex mu;
  // Most nodes are leaves: remove them all at once and descend only into those that refuse.
  auto leaf_errors = pipelined(kids.size(), 1000, [&](size_t i, OpDone done) {
    std::string child = path + "/" + kids[i];
    c.remove(child, -1, [&, child, done](client::Result<void> r) {
      if (r.error() == ErrorCode::kNotEmpty) {
        std::lock_guard lock(mu);
        nonempty.push_back(child);
      }
      bool fine = r || r.error() == ErrorCode::kNoNode || r.error() == ErrorCode::kNotEmpty;
      done(fine ? ErrorCode::kOk : r.error());
    });
  });
  for (auto& [code, n] : leaf_errors) errors[code] += n;
  for (const auto& child : nonempty) {
    for (auto& [code, n] : remove_tree(c, child)) errors[code] += n;
  }
  auto r = c.remove(path, -1, asio::use_future).get();
  if (!r && r.error() != ErrorCode::kNoNode) ++errors[r.error()];
  return errors;
}

}  // namespace corral::bench
