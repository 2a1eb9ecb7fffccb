#include "ensemble/server/output_budget.h"

#include <algorithm>
#include <utility>

namespace corral::server {

OutputBudget::OutputBudget(int64_t budget_bytes, size_t max_lead_bytes, Wake wake)
    : budget_(budget_bytes), max_lead_(max_lead_bytes), wake_(std::move(wake)) {}

void OutputBudget::queued(uint64_t id, size_t n) {
  if (n == 0) return;
  own_[id] += n;
  total_ += n;
  Share& share = shares_[id];
  share.tag = std::min(std::max(share.tag, vtime_) + n, vtime_ + max_lead_);
  share.last = n;
  // The clock runs as a fair share of the bytes served among those contending for them
  // (weighted fair queueing's virtual time): a crowd's next replies finish later on it than a
  // small reply asked for now, so the small one goes first.
  if (!waiting_.empty()) vtime_ += n / (waiting_.size() + 1);
}

void OutputBudget::written(uint64_t id, size_t n) {
  auto it = own_.find(id);
  // A connection already forgotten: its bytes were discounted then.
  if (it == own_.end()) return;
  n = std::min(n, it->second);
  it->second -= n;
  total_ -= n;
  if (it->second == 0) {
    own_.erase(it);
    if (overdraft_ == id) overdraft_ = 0;
  }
  wake_waiters();
}

void OutputBudget::forget(uint64_t id) {
  if (auto it = own_.find(id); it != own_.end()) {
    total_ -= it->second;
    own_.erase(it);
  }
  shares_.erase(id);
  if (auto it = waiting_.find(id); it != waiting_.end()) {
    queue_.erase({it->second, id});
    waiting_.erase(it);
  }
  if (overdraft_ == id) overdraft_ = 0;
  wake_waiters();
}

size_t OutputBudget::queued_for(uint64_t id) const {
  auto it = own_.find(id);
  return it == own_.end() ? 0 : it->second;
}

bool OutputBudget::admits(uint64_t id) {
  if (!over()) return true;
  if (queued_for(id) == 0 && (overdraft_ == 0 || overdraft_ == id)) {
    overdraft_ = id;
    return true;
  }
  ++refusals_;
  if (!waiting_.contains(id)) {
    auto it = shares_.find(id);
    Share share = it == shares_.end() ? Share{} : it->second;
    uint64_t key = std::max(share.tag, vtime_) + share.last;
    waiting_[id] = key;
    queue_.insert({key, id});
  }
  return false;
}

uint64_t OutputBudget::next_waiter() {
  auto it = queue_.begin();
  if (over()) {
    // Over the budget only the overdraft can let anyone through, and only one with nothing
    // queued may take it; the others wait for room (their own bytes drain meanwhile).
    if (overdraft_ != 0) return 0;
    it = std::find_if(queue_.begin(), queue_.end(),
                      [&](const auto& waiter) { return queued_for(waiter.second) == 0; });
  }
  if (it == queue_.end()) return 0;
  uint64_t id = it->second;
  queue_.erase(it);
  waiting_.erase(id);
  return id;
}

void OutputBudget::wake_waiters() {
  // Each round removes a waiter; one woken and refused again goes back in behind, so bounding
  // the rounds by the queue's length keeps a refused connection from being retried in a loop.
  for (size_t rounds = queue_.size(); rounds > 0; --rounds) {
    uint64_t id = next_waiter();
    if (id == 0) return;
    // The woken connection takes requests now, which may queue bytes and wake others
    // (re-entrantly); the next round looks at the state it leaves.
    wake_(id);
  }
}

}  // namespace corral::server
