#include "corral/client/types.h"

#include "corral/client/multi.h"
#include "corral/client/result.h"

namespace corral::client {

std::string error_text(ErrorCode err) { return std::string(wire::error_name(err)); }

AclList open_acl_unsafe() { return {wire::Acl{wire::perms::kAll, {"world", "anyone"}}}; }
AclList read_acl_unsafe() { return {wire::Acl{wire::perms::kRead, {"world", "anyone"}}}; }
AclList creator_all_acl() { return {wire::Acl{wire::perms::kAll, {"auth", ""}}}; }

bool is_sequential(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential ||
         mode == CreateMode::kPersistentSequentialWithTtl;
}

bool is_ephemeral(CreateMode mode) {
  return mode == CreateMode::kEphemeral || mode == CreateMode::kEphemeralSequential;
}

const char* state_name(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kSuspended:
      return "suspended";
    case ConnectionState::kReconnected:
      return "reconnected";
    case ConnectionState::kReadOnly:
      return "read-only";
    case ConnectionState::kLost:
      return "lost";
    case ConnectionState::kClosed:
      return "closed";
    case ConnectionState::kAuthFailed:
      return "auth-failed";
  }
  return "unknown";
}

Multi& Multi::create(std::string path, std::string data, CreateMode mode, AclList acl,
                     int64_t ttl_ms) {
  MultiOp op;
  op.kind = MultiOp::Kind::kCreate;
  op.path = std::move(path);
  op.data = std::move(data);
  op.mode = mode;
  op.acl = std::move(acl);
  op.ttl_ms = ttl_ms;
  ops_.push_back(std::move(op));
  return *this;
}

Multi& Multi::remove(std::string path, int32_t version) {
  MultiOp op;
  op.kind = MultiOp::Kind::kDelete;
  op.path = std::move(path);
  op.version = version;
  ops_.push_back(std::move(op));
  return *this;
}

Multi& Multi::set(std::string path, std::string data, int32_t version) {
  MultiOp op;
  op.kind = MultiOp::Kind::kSetData;
  op.path = std::move(path);
  op.data = std::move(data);
  op.version = version;
  ops_.push_back(std::move(op));
  return *this;
}

Multi& Multi::check(std::string path, int32_t version) {
  MultiOp op;
  op.kind = MultiOp::Kind::kCheck;
  op.path = std::move(path);
  op.version = version;
  ops_.push_back(std::move(op));
  return *this;
}

}  // namespace corral::client
