#include "client/cli/events.h"

namespace corral::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_interrupt(int) { g_interrupted = 1; }

struct sigaction interrupt_action() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  return action;
}

}  // namespace

void EventQueue::push(Event event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

std::optional<Event> EventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void EventQueue::clear() {
  std::lock_guard lock(mu_);
  events_.clear();
}

InterruptScope::InterruptScope(bool also_sigterm) : also_sigterm_(also_sigterm) {
  struct sigaction action = interrupt_action();
  sigaction(SIGINT, &action, &old_int_);
  if (also_sigterm_) sigaction(SIGTERM, &action, &old_term_);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  if (also_sigterm_) sigaction(SIGTERM, &old_term_, nullptr);
}

bool take_interrupt() {
  bool was = g_interrupted != 0;
  g_interrupted = 0;
  return was;
}

}  // namespace corral::cli
