// A znode's ACL list, one copy shared by the nodes that have it.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "wire/records.h"

namespace corral::tree {

/// An immutable ACL list with a count of its handles, in 8 bytes: a std::shared_ptr took 16 in
/// every znode (its control block pointer), which took a node and its key from jemalloc's 96-byte
/// class to its 112-byte one. Copies share the list and the last one frees it. Copying and dropping
/// handles of one list on several threads is safe, as for a shared_ptr.
class SharedAcl {
 public:
  /// No list.
  SharedAcl() = default;
  /// A list of its own holding `acl`.
  explicit SharedAcl(wire::AclList acl) : body_(new Body{std::move(acl)}) {}
  SharedAcl(const SharedAcl& other) noexcept : body_(other.body_) { retain(); }
  SharedAcl(SharedAcl&& other) noexcept : body_(std::exchange(other.body_, nullptr)) {}
  SharedAcl& operator=(SharedAcl other) noexcept {
    std::swap(body_, other.body_);
    return *this;
  }
  ~SharedAcl() { release(); }

  /// The list, or nullptr.
  const wire::AclList* get() const noexcept { return body_ ? &body_->acl : nullptr; }
  const wire::AclList& operator*() const noexcept { return body_->acl; }
  const wire::AclList* operator->() const noexcept { return &body_->acl; }
  explicit operator bool() const noexcept { return body_ != nullptr; }
  /// How many handles share the list (0 without one).
  uint32_t use_count() const noexcept {
    return body_ ? body_->refs.load(std::memory_order_acquire) : 0;
  }
  /// The same list (not merely an equal one).
  friend bool operator==(const SharedAcl& a, const SharedAcl& b) noexcept {
    return a.body_ == b.body_;
  }

 private:
  struct Body {
    wire::AclList acl;
    std::atomic<uint32_t> refs{1};
  };
  void retain() const noexcept {
    if (body_) body_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (body_ && body_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete body_;
  }

  Body* body_ = nullptr;
};

static_assert(sizeof(SharedAcl) == sizeof(void*), "an ACL is one pointer in a znode");

}  // namespace corral::tree
