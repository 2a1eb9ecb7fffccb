#include "ensemble/tree/path_key.h"

#include <cstring>
#include <new>

namespace corral::tree {

PathKey::PathKey(std::string_view path)
    : p_(static_cast<char*>(::operator new(sizeof(uint32_t) + path.size() + 1))) {
  const auto n = static_cast<uint32_t>(path.size());
  std::memcpy(p_, &n, sizeof n);
  std::memcpy(p_ + sizeof n, path.data(), path.size());
  p_[sizeof n + path.size()] = '\0';
}

PathKey& PathKey::operator=(PathKey&& other) noexcept {
  if (this != &other) {
    ::operator delete(p_);
    p_ = other.p_;
    other.p_ = nullptr;
  }
  return *this;
}

PathKey::~PathKey() { ::operator delete(p_); }

}  // namespace corral::tree
