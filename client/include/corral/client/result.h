// The outcome of a client operation: ZooKeeper's error code and, on success, a value.
#pragma once

#include <string>
#include <utility>

#include "wire/protocol.h"

namespace corral::client {

/// ZooKeeper's error codes (KeeperException.Code); kOk on success.
using ErrorCode = wire::ErrorCode;

/// ZooKeeper's name for an error code ("ZNONODE", "ZCONNECTIONLOSS", ...).
std::string error_text(ErrorCode err);

/// An error code and, when it is kOk, a value.
template <typename T>
class Result {
 public:
  /// A failure.
  Result(ErrorCode err) : err_(err) {}  // NOLINT: implicit on purpose (return kNoNode;)
  /// A success.
  Result(T value) : value_(std::move(value)) {}  // NOLINT
  /// A failure that still carries details (a failed multi's per-op results).
  Result(ErrorCode err, T value) : err_(err), value_(std::move(value)) {}

  bool ok() const { return err_ == ErrorCode::kOk; }
  explicit operator bool() const { return ok(); }
  ErrorCode error() const { return err_; }
  /// The value (default-constructed when !ok()).
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& operator*() const& { return value_; }
  T& operator*() & { return value_; }
  const T* operator->() const { return &value_; }
  T* operator->() { return &value_; }

 private:
  ErrorCode err_ = ErrorCode::kOk;
  T value_{};
};

/// An outcome without a value.
template <>
class Result<void> {
 public:
  Result(ErrorCode err = ErrorCode::kOk) : err_(err) {}  // NOLINT
  bool ok() const { return err_ == ErrorCode::kOk; }
  explicit operator bool() const { return ok(); }
  ErrorCode error() const { return err_; }

 private:
  ErrorCode err_;
};

}  // namespace corral::client
