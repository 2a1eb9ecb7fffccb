// The compatibility driver's operations: each one calls Apache's C client and prints one
// canonical transcript line (or a few), with everything nondeterministic left out.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "zk_session.h"

namespace corral::compat {

/// One ACL entry with owned strings.
struct AclEntry {
  int perms;
  std::string scheme;
  std::string id;
};
/// An ACL list.
using Acl = std::vector<AclEntry>;

/// world:anyone with all permissions (ZOO_OPEN_ACL_UNSAFE).
Acl open_acl();

/// One operation of a multi.
struct MultiOp {
  enum Kind { kCreate, kDelete, kSet, kCheck };
  Kind kind;
  std::string path;
  std::string data;
  int flags = 0;
  int version = -1;

  /// A create of `path` with `data` and create `flags`, world-open ACL.
  static MultiOp create(std::string path, std::string data = "", int flags = 0);
  /// A delete of `path` expecting `version` (-1: any).
  static MultiOp remove(std::string path, int version = -1);
  /// A setData of `path` expecting `version` (-1: any).
  static MultiOp set(std::string path, std::string data, int version = -1);
  /// A version check of `path`.
  static MultiOp check(std::string path, int version);
};

/// How a read registers a watch: none, the global watcher (watch=1) or a tagged watcher.
struct Watch {
  std::string tag;  ///< "" for none, "default" for the global watcher, else a tag
  /// No watch.
  static Watch none() { return {""}; }
  /// The session's global watcher.
  static Watch global() { return {"default"}; }
  /// A watcher with its own context, reported under `tag`.
  static Watch tagged(std::string tag) { return {std::move(tag)}; }
};

/// Runs operations through the C client and writes the transcript.
class Driver {
 public:
  /// A driver talking to `hosts` and writing the transcript to `out`.
  Driver(std::string hosts, std::ostream& out);
  ~Driver();

  /// The session called `name`, opened (and connected) on first use.
  ZkSession& session(const std::string& name);
  /// Closes session `name` and waits until the server has ended it (its ephemerals are gone).
  void close(const std::string& name);
  /// Writes a comment line ("# text").
  void note(const std::string& text);
  /// Writes a raw transcript line.
  void line(const std::string& text);

  /// create (opcode create2 if `with_stat`, else create; createTTL if `ttl` is given).
  int create(ZkSession& s, const std::string& path, std::optional<std::string> data, int flags = 0,
             const Acl& acl = open_acl(), std::optional<int64_t> ttl = {}, bool with_stat = true);
  /// delete with an expected version.
  int remove(ZkSession& s, const std::string& path, int version = -1);
  /// exists, optionally leaving a watch.
  int exists(ZkSession& s, const std::string& path, const Watch& w = Watch::none());
  /// getData, optionally leaving a watch.
  int get(ZkSession& s, const std::string& path, const Watch& w = Watch::none());
  /// setData with an expected version.
  int set(ZkSession& s, const std::string& path, std::optional<std::string> data, int version = -1);
  /// getChildren2 (children sorted), optionally leaving a watch.
  int children(ZkSession& s, const std::string& path, const Watch& w = Watch::none());
  /// getChildren (no stat), optionally leaving a watch.
  int children1(ZkSession& s, const std::string& path, const Watch& w = Watch::none());
  /// getACL; `sorted` sorts the entries (for ACLs expanded from a set of identities, whose
  /// order in ZooKeeper is a Java HashSet's).
  int get_acl(ZkSession& s, const std::string& path, bool sorted = false);
  /// setACL with an expected ACL version.
  int set_acl(ZkSession& s, const std::string& path, int version, const Acl& acl);
  /// addAuth; waits for the server's answer.
  int add_auth(ZkSession& s, const std::string& scheme, const std::string& cert);
  /// multi; prints the overall code and each op's result.
  int multi(ZkSession& s, const std::vector<MultiOp>& ops);
  /// removeWatches of `type` (ZWATCHTYPE_*); an empty tag removes every watcher.
  int remove_watches(ZkSession& s, const std::string& path, int type, const std::string& tag,
                     bool local = false);
  /// Prints the watch events of `s` once `expected` have arrived (or `timeout` passed) and
  /// a round trip has flushed the rest; `sorted` for events the server may send in any order;
  /// `quiet` prints nothing when there are none.
  void events(ZkSession& s, size_t expected = 0,
              std::chrono::milliseconds timeout = std::chrono::seconds(5), bool sorted = false,
              bool quiet = false);
  /// Waits (by an exists watch, up to `timeout`) until `path` is deleted by the server on its
  /// own (containers, TTL nodes); prints whether it went.
  void wait_deleted(ZkSession& s, const std::string& path, std::chrono::milliseconds timeout);
  /// Deletes `path` and everything under it, printing nothing.
  void cleanup(ZkSession& s, const std::string& path);

  /// The path the last successful create returned (sequential names included).
  const std::string& last_created() const { return last_created_; }

  /// A Stat with zxids as labels by first appearance and the ephemeral owner by session name.
  std::string stat_text(const struct Stat& st);

 private:
  ZkSession& observer();
  bool watch_sentinel(ZkSession& s, std::string& sentinel);
  std::string zxid_label(int64_t zxid);
  std::string owner_label(int64_t owner);
  void print_multi_result(const std::vector<MultiOp>& ops, int rc, const void* results,
                          const std::vector<std::string>& created);

  std::string hosts_;
  std::ostream& out_;
  std::map<std::string, std::unique_ptr<ZkSession>> sessions_;
  std::unique_ptr<ZkSession> observer_;
  std::map<int64_t, std::string> session_names_;
  std::map<int64_t, std::string> zxid_labels_;
  std::vector<char> buffer_;
  std::string last_created_;
};

}  // namespace corral::compat
