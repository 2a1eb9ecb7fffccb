// ZooKeeper requests and replies encoded by hand (big-endian jute), for the end-to-end tests.
// They do not use wire/, so a codec bug in the server cannot hide itself in a test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::e2e {

// OpCodes and error codes, as in ZooKeeper 3.8.
/// create
inline constexpr int32_t kOpCreate = 1;
/// delete
inline constexpr int32_t kOpDelete = 2;
/// exists
inline constexpr int32_t kOpExists = 3;
/// getData
inline constexpr int32_t kOpGetData = 4;
/// setData
inline constexpr int32_t kOpSetData = 5;
/// getChildren
inline constexpr int32_t kOpGetChildren = 8;
/// multi
inline constexpr int32_t kOpMulti = 14;
/// addWatch
inline constexpr int32_t kOpAddWatch = 106;
/// closeSession
inline constexpr int32_t kOpCloseSession = -11;
/// The NodeDeleted watch event type.
inline constexpr int32_t kNodeDeleted = 2;
/// ZOK
inline constexpr int32_t kOk = 0;
/// ZUNIMPLEMENTED
inline constexpr int32_t kUnimplemented = -6;
/// ZNONODE
inline constexpr int32_t kNoNode = -101;
/// The size of an encoded Stat.
inline constexpr size_t kStatBytes = 68;

/// Appends a big-endian int.
void put32(std::string& out, int32_t v);

/// Appends a big-endian long.
void put64(std::string& out, int64_t v);

/// Appends a length-prefixed buffer or string.
void put_buffer(std::string& out, std::string_view v);

/// The big-endian int at byte `at`.
int32_t get32(std::string_view in, size_t at);

/// The big-endian long at byte `at`.
int64_t get64(std::string_view in, size_t at);

/// `payload` with its 4-byte length prefix.
std::string frame(std::string_view payload);

/// A ConnectRequest for a new session. The default timeout outlives any test, so no session
/// expires (and takes a zxid) while a test compares the tree before and after.
std::string connect_request(int32_t timeout_ms = 30000);

/// RequestHeader + body.
std::string request(int32_t xid, int32_t op, std::string_view body = {});

/// The world:anyone ALL ACL list.
std::string open_acl();

/// A CreateRequest body with the open ACL and `flags` (0: a persistent node).
std::string create_body(std::string_view path, std::string_view data, int32_t flags = 0);

/// A path + watch flag body (exists, getData), without a watch.
std::string path_watch_body(std::string_view path);

}  // namespace corral::e2e
