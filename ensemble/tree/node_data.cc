#include "ensemble/tree/node_data.h"

#include <cstring>
#include <new>

namespace corral::tree {

NodeData& NodeData::operator=(const NodeData& other) {
  if (this != &other) assign(other.view());
  return *this;
}

NodeData& NodeData::operator=(NodeData&& other) noexcept {
  if (this != &other) {
    ::operator delete(p_);
    p_ = other.p_;
    other.p_ = nullptr;
  }
  return *this;
}

NodeData::~NodeData() { ::operator delete(p_); }

void NodeData::assign(std::string_view bytes) {
  char* p = nullptr;
  if (!bytes.empty()) {
    p = static_cast<char*>(::operator new(sizeof(uint32_t) + bytes.size()));
    const auto n = static_cast<uint32_t>(bytes.size());
    std::memcpy(p, &n, sizeof n);
    std::memcpy(p + sizeof n, bytes.data(), bytes.size());
  }
  ::operator delete(p_);
  p_ = p;
}

}  // namespace corral::tree
