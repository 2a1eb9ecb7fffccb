#include "tests/recipes/recipes_env.h"

#include <algorithm>
#include <thread>

namespace corral::recipes::test {

void Ledger::enter(int who, int64_t token) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(inside_.size()) >= limit_) {
    std::string held;
    for (int h : inside_) held += std::to_string(h) + " ";
    overlaps_.push_back(std::to_string(who) + " entered while " + held + "held");
  }
  inside_.push_back(who);
  tokens_.push_back(token);
  ++grants_;
  int now = ++holders_;
  int seen = max_holders_.load();
  while (now > seen && !max_holders_.compare_exchange_weak(seen, now)) {
  }
}

void Ledger::leave(int who) {
  std::lock_guard lock(mu_);
  auto it = std::find(inside_.begin(), inside_.end(), who);
  if (it != inside_.end()) inside_.erase(it);
  --holders_;
}

bool Ledger::tokens_increase() const {
  std::lock_guard lock(mu_);
  for (size_t i = 1; i < tokens_.size(); ++i)
    if (tokens_[i] <= tokens_[i - 1]) return false;
  return true;
}

std::vector<std::string> Ledger::overlaps() const {
  std::lock_guard lock(mu_);
  return overlaps_;
}

void run_parallel(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&body, i] { body(i); });
  for (auto& t : threads) t.join();
}

client::Result<std::vector<std::string>> children_of(Client& c, const std::string& path) {
  auto synced = await(c.sync(path, asio::use_future));
  if (!synced) return synced.error();
  auto r = await(c.children(path, nullptr, asio::use_future));
  // The recipes' parents are containers, which the server reaps (every 500 ms in these
  // tests) once their last child goes: a parent gone has no children left either.
  if (r.error() == client::ErrorCode::kNoNode) return std::vector<std::string>{};
  if (!r) return r.error();
  return r->children;
}

}  // namespace corral::recipes::test
