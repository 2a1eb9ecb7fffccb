// The state image a leader sends a learner that needs SNAP (capture, encode, decode, load),
// and the Database methods the ensemble added: stage_snapshot and install_snapshot (the learner
// installs that image as its only snapshot) and recent_txns (the log tail a leader DIFFs from).
#include "ensemble/storage/state_image.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/tree/acl.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"
#include "ensemble/tree/txn_prep.h"
#include "ensemble/txn/txn_codec.h"
#include "tests/ensemble/storage_support.h"
#include "wire/jute.h"

namespace corral::storage {
namespace {

using tree::DataTree;
using tree::Txn;
using wire::CreateMode;
using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

/// zxid of `counter` in `epoch`.
int64_t zx(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

/// Everything for anyone.
const wire::AclList kOpenAcl{{perms::kAll, {"world", "anyone"}}};
/// Read for anyone, everything for the local address and for a digest user.
const wire::AclList kMixedAcl{{perms::kRead, {"world", "anyone"}},
                              {perms::kAll, {"ip", "127.0.0.1"}},
                              {perms::kAll, {"digest", "bob:c2VjcmV0PT0="}}};
/// Everything but delete, for the local address only.
const wire::AclList kLocalAcl{{perms::kAll & ~perms::kDelete, {"ip", "127.0.0.1"}}};

// ---- helpers ----------------------------------------------------------------------------------

/// Session rows are equal, as sets keyed by id.
::testing::AssertionResult same_sessions(const std::vector<SessionRow>& want,
                                         const std::vector<SessionRow>& got) {
  std::map<int64_t, SessionRow> w;
  for (const auto& s : want) w[s.id] = s;
  if (w.size() != got.size())
    return ::testing::AssertionFailure() << "want " << w.size() << " sessions, got " << got.size();
  for (const auto& s : got) {
    auto it = w.find(s.id);
    if (it == w.end()) return ::testing::AssertionFailure() << "extra session " << s.id;
    if (it->second.timeout_ms != s.timeout_ms || it->second.passwd != s.passwd)
      return ::testing::AssertionFailure() << "session " << s.id << " differs";
  }
  return ::testing::AssertionSuccess();
}

/// A tree changed only through txns TxnPrep makes (as a leader would), keeping those txns
/// and the sessions they created and closed.
class Builder {
 public:
  /// Txns get zxids of `epoch`, counting from 1.
  explicit Builder(int64_t epoch) : zxid_(zx(epoch, 0)) {}

  /// The next txns get zxids of `epoch`, counting from 1 (a new leader's).
  void new_epoch(int64_t epoch) { zxid_ = zx(epoch, 0); }

  /// Creates a session with a binary password derived from its id.
  void create_session(int64_t id, int32_t timeout_ms) {
    Txn t = prep_.prepare_create_session(ctx(id), timeout_ms);
    t.session_passwd = std::string("pw\0\xff", 4) + std::to_string(id);
    sessions_[id] = {id, timeout_ms, t.session_passwd};
    run(std::move(t));
  }
  /// Closes a session, removing its ephemerals.
  void close_session(int64_t id) {
    run(prep_.prepare_close_session(ctx(id)));
    sessions_.erase(id);
  }
  /// Creates `path`; returns the path created (sequential nodes get a suffix).
  std::string create(const std::string& path, const std::string& data,
                     CreateMode mode = CreateMode::kPersistent, const wire::AclList& acl = kOpenAcl,
                     int64_t session = 0, bool data_null = false) {
    wire::CreateRequest req;
    req.path = path;
    req.data = data;
    req.data_null = data_null;
    req.acl = acl;
    req.flags = static_cast<int32_t>(mode);
    OpCode type = OpCode::kCreate2;
    if (mode == CreateMode::kContainer) type = OpCode::kCreateContainer;
    if (mode == CreateMode::kPersistentWithTtl) {
      type = OpCode::kCreateTtl;
      req.ttl = 60000;
    }
    Txn t = prep_.prepare(ctx(session), {type, req});
    std::string created = t.ops.empty() ? "" : t.ops.front().path;
    run(std::move(t));
    return created;
  }
  /// Sets a node's data (null when `data_null`), any version.
  void set_data(const std::string& path, const std::string& data, bool data_null = false) {
    wire::SetDataRequest req;
    req.path = path;
    req.data = data;
    req.data_null = data_null;
    req.version = -1;
    run(prep_.prepare(ctx(0), {OpCode::kSetData, req}));
  }
  /// Sets a node's ACL, any version.
  void set_acl(const std::string& path, const wire::AclList& acl) {
    run(prep_.prepare(ctx(0), {OpCode::kSetAcl, wire::SetAclRequest{path, acl, -1}}));
  }
  /// Deletes a node, any version.
  void remove(const std::string& path) {
    run(prep_.prepare(ctx(0), {OpCode::kDelete, wire::PathVersionRequest{path, -1}}));
  }

  /// The live sessions as snapshot rows.
  std::vector<SessionRow> session_rows() const {
    std::vector<SessionRow> out;
    for (const auto& [id, s] : sessions_) out.push_back(s);
    return out;
  }

  DataTree tree;
  /// Every txn applied, in order.
  std::vector<Txn> txns;

 private:
  /// The header of the next txn of `session`.
  tree::PrepContext ctx(int64_t session) { return {session, ++cxid_, ++zxid_, now_ += 7, &ids_}; }
  /// Applies a prepared txn (which must not be an error txn) and keeps it.
  void run(Txn t) {
    EXPECT_NE(t.type, OpCode::kError) << "a txn of the test's tree failed: " << t.ops.size();
    tree.apply(t);
    prep_.applied(t.zxid);
    txns.push_back(std::move(t));
  }

  tree::TxnPrep prep_{tree, /*extended_types=*/true};
  tree::AuthIds ids_{{"ip", "127.0.0.1"}};
  std::map<int64_t, SessionRow> sessions_;
  int64_t zxid_;
  int32_t cxid_ = 0;
  int64_t now_ = 1'700'000'000'000;
};

/// Sessions of the rich tree; the third one closes.
constexpr int64_t kSession1 = 0x0500000000000001;
constexpr int64_t kSession2 = 0x0500000000000002;
constexpr int64_t kSession3 = 0x0500000000000003;

/// A tree with nested nodes, ephemerals of two sessions, containers, a TTL node, sequential
/// nodes, several ACLs, null and empty data, versions, and deleted children.
void build_rich_tree(Builder& b) {
  b.create_session(kSession1, 30000);
  b.create_session(kSession2, 12000);
  b.create_session(kSession3, 4000);
  b.create("/app", "app-data");
  b.create("/app/empty", "");
  b.create("/app/null", "", CreateMode::kPersistent, kOpenAcl, 0, /*data_null=*/true);
  b.create("/app/deep", std::string("\0\x01\xff", 3));
  b.create("/app/deep/a", "a");
  b.create("/app/deep/a/b", "b", CreateMode::kPersistent, kMixedAcl);
  b.create("/app/deep/a/b/c", std::string(300, 'c'), CreateMode::kPersistent, kLocalAcl);
  b.create("/app/eph", "mine", CreateMode::kEphemeral, kOpenAcl, kSession1);
  b.create("/app/deep/eph", "", CreateMode::kEphemeral, kOpenAcl, kSession2);
  b.create("/app/seq-", "s", CreateMode::kEphemeralSequential, kOpenAcl, kSession2);
  b.create("/app/seq-", "s", CreateMode::kPersistentSequential);
  b.create("/app/gone-eph", "", CreateMode::kEphemeral, kOpenAcl, kSession3);
  b.create("/box", "", CreateMode::kContainer);
  b.create("/box/item", "i");
  b.create("/box/eph", "", CreateMode::kEphemeral, kOpenAcl, kSession1);
  b.create("/emptybox", "", CreateMode::kContainer);
  b.create("/ttl", "t", CreateMode::kPersistentWithTtl);
  b.create("/acl", "x", CreateMode::kPersistent, kMixedAcl);
  // Versions, ACL versions, null data set over data, and children that came and went.
  b.set_data("/app", "v1");
  b.set_data("/app", "v2");
  b.set_data("/app/empty", "", /*data_null=*/true);
  b.set_data("/app/null", "now-set");
  b.set_acl("/acl", kLocalAcl);
  b.create("/app/tmp", "");
  b.remove("/app/tmp");
  b.create("/box/tmp", "");
  b.remove("/box/tmp");
  b.close_session(kSession3);  // its ephemeral goes, its parent's pzxid moves
}

/// The image of `b`'s tree and sessions, encoded and decoded again.
StateImage through_the_wire(const Builder& b) {
  return decode_image(encode_image(capture_image(b.tree, b.session_rows())));
}

/// A fresh tree loaded from `image`.
std::unique_ptr<DataTree> loaded(const StateImage& image) {
  auto t = std::make_unique<DataTree>();
  load_image(image, *t);
  return t;
}

/// The message decode_image throws for `bytes`; empty (and a failure) when it accepts them.
std::string decode_error(const std::string& bytes) {
  try {
    decode_image(bytes);
  } catch (const StorageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "decode_image accepted " << bytes.size() << " malformed bytes";
  return "";
}

/// The message load_image throws for `image`; empty (and a failure) when it loads.
std::string load_error(const StateImage& image) {
  try {
    DataTree t;
    load_image(image, t);
  } catch (const StorageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "load_image accepted a broken image";
  return "";
}

// ---- the state image --------------------------------------------------------------------------

TEST(StateImage, RichTreeRoundTripsThroughTheWire) {
  Builder b(1);
  build_rich_tree(b);
  ASSERT_FALSE(b.tree.containers().empty());
  ASSERT_FALSE(b.tree.ttl_nodes().empty());
  ASSERT_EQ(b.tree.ephemeral_counts().size(), 2u);
  ASSERT_TRUE(b.tree.find("/app/empty")->data_null);
  ASSERT_FALSE(b.tree.find("/app/null")->data_null);
  ASSERT_EQ(b.tree.find("/acl")->aversion, 1);

  StateImage image = capture_image(b.tree, b.session_rows());
  EXPECT_EQ(image.zxid, b.tree.last_zxid());
  EXPECT_EQ(image.zxid, b.txns.back().zxid);
  ASSERT_EQ(image.nodes.size(), b.tree.node_count());
  // Parents before children: the tree's preorder.
  std::vector<std::string> paths;
  for (const auto& row : image.nodes) paths.push_back(row.path);
  EXPECT_EQ(paths, b.tree.paths());

  std::string bytes = encode_image(image);
  StateImage back = decode_image(bytes);
  EXPECT_EQ(back.zxid, image.zxid);
  ASSERT_EQ(back.sessions.size(), 2u);
  for (size_t i = 0; i < back.sessions.size(); ++i) {
    EXPECT_EQ(back.sessions[i].id, image.sessions[i].id);
    EXPECT_EQ(back.sessions[i].timeout_ms, image.sessions[i].timeout_ms);
    EXPECT_EQ(back.sessions[i].passwd, image.sessions[i].passwd);
  }
  EXPECT_TRUE(same_sessions(b.session_rows(), back.sessions));
  ASSERT_EQ(back.nodes.size(), image.nodes.size());
  for (size_t i = 0; i < back.nodes.size(); ++i) {
    EXPECT_EQ(back.nodes[i].path, image.nodes[i].path);
    EXPECT_EQ(back.nodes[i].record, image.nodes[i].record) << image.nodes[i].path;
  }
  // Encoding is deterministic.
  EXPECT_EQ(encode_image(back), bytes);

  auto got = loaded(back);
  EXPECT_TRUE(same_tree(b.tree, *got));
  EXPECT_EQ(got->last_zxid(), b.tree.last_zxid());
  // Spot checks of what same_tree compares.
  EXPECT_TRUE(got->find("/app/empty")->data_null);
  EXPECT_TRUE(got->find("/app/empty")->data.empty());
  EXPECT_FALSE(got->find("/app/deep")->data_null);
  EXPECT_EQ(got->find("/app/deep")->data, std::string("\0\x01\xff", 3));
  EXPECT_EQ(got->ephemerals(kSession1), (std::vector<std::string>{"/app/eph", "/box/eph"}));
  EXPECT_TRUE(got->ephemerals(kSession3).empty());
  EXPECT_EQ(*got->find("/acl")->acl, kLocalAcl);
  EXPECT_EQ(*got->find("/app/deep/a/b")->acl, kMixedAcl);
  EXPECT_EQ(got->containers(), (std::set<std::string>{"/box", "/emptybox"}));
  EXPECT_EQ(got->ttl_nodes(), (std::set<std::string>{"/ttl"}));
}

TEST(StateImage, FreshTreeWithoutSessionsRoundTrips) {
  DataTree fresh;
  StateImage image = capture_image(fresh, {});
  EXPECT_EQ(image.zxid, 0);
  EXPECT_TRUE(image.sessions.empty());
  EXPECT_EQ(image.nodes.size(), fresh.node_count());
  StateImage back = decode_image(encode_image(image));
  EXPECT_EQ(back.zxid, 0);
  EXPECT_TRUE(back.sessions.empty());
  EXPECT_TRUE(same_tree(fresh, *loaded(back)));
}

TEST(StateImage, LoadSetsTheLastZxidOfTheImage) {
  Builder b(7);
  b.create("/a", "x");
  StateImage image = through_the_wire(b);
  EXPECT_EQ(image.zxid, zx(7, 1));
  EXPECT_EQ(loaded(image)->last_zxid(), zx(7, 1));
  // The image's zxid is what the tree is said to hold, whatever the nodes' zxids.
  image.zxid = zx(9, 4);
  EXPECT_EQ(loaded(image)->last_zxid(), zx(9, 4));
}

TEST(StateImage, RootDataRoundTrips) {
  Builder b(1);
  b.create("/a", "");
  b.set_data("/", "root-data");
  ASSERT_EQ(b.tree.find("/")->data, "root-data");
  auto got = loaded(through_the_wire(b));
  EXPECT_EQ(got->find("/")->data, "root-data");
  EXPECT_EQ(got->find("/")->stat(), b.tree.find("/")->stat());
  // The tree's data size (mntr's zk_approximate_data_size) counts the root's data too.
  EXPECT_EQ(got->data_bytes(), b.tree.data_bytes())
      << "load_node(\"/\") leaves out the root's data";
  EXPECT_TRUE(same_tree(b.tree, *got));
}

TEST(StateImage, DecodeRejectsEveryTruncation) {
  Builder b(1);
  build_rich_tree(b);
  std::string bytes = encode_image(capture_image(b.tree, b.session_rows()));
  ASSERT_NO_THROW(decode_image(bytes));
  for (size_t len = 0; len < bytes.size(); ++len) {
    SCOPED_TRACE("truncated to " + std::to_string(len) + " of " + std::to_string(bytes.size()));
    std::string msg = decode_error(bytes.substr(0, len));
    EXPECT_NE(msg.find("state image"), std::string::npos) << msg;
    if (HasFailure()) break;
  }
}

TEST(StateImage, DecodeRejectsTrailingBytes) {
  Builder b(1);
  build_rich_tree(b);
  std::string bytes = encode_image(capture_image(b.tree, b.session_rows()));
  for (const std::string& extra : {std::string(1, '\0'), std::string("more"), bytes}) {
    std::string msg = decode_error(bytes + extra);
    EXPECT_NE(msg.find("trailing"), std::string::npos) << msg;
  }
  // Also after an image with nothing in it.
  std::string empty = encode_image(StateImage{});
  ASSERT_NO_THROW(decode_image(empty));
  EXPECT_NE(decode_error(empty + "x").find("trailing"), std::string::npos);
}

TEST(StateImage, DecodeRejectsNegativeCounts) {
  auto image_bytes = [](int32_t sessions, int64_t nodes) {
    std::string out;
    wire::JuteWriter w(out);
    w.int64(zx(1, 5));
    w.int32(sessions);
    w.int64(nodes);
    return out;
  };
  ASSERT_NO_THROW(decode_image(image_bytes(0, 0)));
  for (int32_t bad : {-1, -2, INT32_MIN}) {
    std::string msg = decode_error(image_bytes(bad, 0));
    EXPECT_NE(msg.find("negative session count"), std::string::npos) << msg;
  }
  for (int64_t bad : {int64_t{-1}, int64_t{-100}, INT64_MIN}) {
    std::string msg = decode_error(image_bytes(0, bad));
    EXPECT_NE(msg.find("negative node count"), std::string::npos) << msg;
  }
  // Counts larger than what follows are truncations, not huge allocations.
  EXPECT_FALSE(decode_error(image_bytes(INT32_MAX, 0)).empty());
  EXPECT_FALSE(decode_error(image_bytes(0, INT64_MAX)).empty());
  // A negative buffer length inside a session row.
  std::string bad_passwd;
  wire::JuteWriter w(bad_passwd);
  w.int64(zx(1, 5));
  w.int32(1);
  w.int64(kSession1);
  w.int32(30000);
  w.int32(-2);
  w.int64(0);
  EXPECT_FALSE(decode_error(bad_passwd).empty());
}

TEST(StateImage, DecodeRejectsASessionThatAppearsTwice) {
  Builder b(1);
  build_rich_tree(b);
  StateImage image = capture_image(b.tree, b.session_rows());
  ASSERT_FALSE(image.sessions.empty());
  image.sessions.push_back(image.sessions.front());
  std::string msg = decode_error(encode_image(image));
  EXPECT_NE(msg.find("appears twice"), std::string::npos) << msg;
}

TEST(StateImage, LoadRejectsANodeWhoseParentIsMissing) {
  Builder b(1);
  build_rich_tree(b);
  StateImage image = through_the_wire(b);
  ASSERT_NO_THROW(loaded(image));
  // Drop /app/deep/a: /app/deep/a/b loses its parent.
  StateImage broken = image;
  std::erase_if(broken.nodes, [](const SnapshotRow& r) { return r.path == "/app/deep/a"; });
  ASSERT_EQ(broken.nodes.size(), image.nodes.size() - 1);
  std::string msg = load_error(broken);
  EXPECT_NE(msg.find("/app/deep/a/b"), std::string::npos) << msg;
  EXPECT_NE(msg.find("parent"), std::string::npos) << msg;

  // Children before their parent are just as broken.
  StateImage reordered = image;
  auto at = [&](const std::string& p) {
    for (size_t i = 0; i < reordered.nodes.size(); ++i)
      if (reordered.nodes[i].path == p) return i;
    ADD_FAILURE() << p;
    return size_t{0};
  };
  std::swap(reordered.nodes[at("/box")], reordered.nodes[at("/box/item")]);
  msg = load_error(reordered);
  EXPECT_NE(msg.find("/box/item"), std::string::npos) << msg;
  EXPECT_NE(msg.find("parent"), std::string::npos) << msg;
}

TEST(StateImage, LoadRejectsARecordThatDoesNotDecode) {
  Builder b(1);
  b.create("/a", "x");
  StateImage image = through_the_wire(b);
  for (auto& row : image.nodes)
    if (row.path == "/a") row.record = std::string("\xff\xff\xff\xff", 4);
  std::string msg = load_error(image);
  EXPECT_NE(msg.find("/a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("decode"), std::string::npos) << msg;
}

// ---- the database -----------------------------------------------------------------------------

/// Replaces everything in `db` with the snapshot of `zxid`, `sessions` and `nodes`, as a
/// learner installs a SNAP: staged, then installed.
void replace_with(Database& db, int64_t zxid, const std::vector<SessionRow>& sessions,
                  const std::vector<SnapshotRow>& nodes) {
  db.install_snapshot(db.stage_snapshot(zxid, sessions, nodes), static_cast<int64_t>(nodes.size()));
}

/// A temporary database file, opened and reopened by the test.
class StateDatabaseTest : public ::testing::Test {
 protected:
  /// The database file.
  std::string path() const { return dir.file("corral.db"); }
  /// (Re)opens the database.
  Database& open() {
    db.reset();
    db = std::make_unique<Database>(path(), /*force_sync=*/false);
    return *db;
  }
  /// Closes the database.
  void close() { db.reset(); }

  /// What recovery would use: the complete snapshots' ids and the logged zxids.
  struct Held {
    std::vector<int64_t> snapshot_ids;
    std::vector<int64_t> log;
    bool operator==(const Held&) const = default;
  };
  Held held() {
    Held h;
    for (const auto& s : db->snapshots()) h.snapshot_ids.push_back(s.id);
    h.log = zxids_of(read_all(*db));
    return h;
  }

  /// Fills the database with `old`'s history: its txns, a snapshot part way, and metadata.
  void fill_with_history(Builder& old) {
    old.create_session(0x0900000000000001, 20000);
    old.create("/old", "o");
    old.create("/old/eph", "", CreateMode::kEphemeral, kOpenAcl, 0x0900000000000001);
    Database& d = open();
    d.append(old.txns);
    write_snapshot(d, old.tree, old.session_rows(), 3);
    size_t logged = old.txns.size();
    old.create("/old/more", "m");
    old.set_data("/old", "changed");
    d.append(std::vector<Txn>(old.txns.begin() + static_cast<long>(logged), old.txns.end()));
    write_snapshot(d, old.tree, old.session_rows(), 3);
    old.create("/old/after", "");
    d.append({old.txns.back()});
    d.set_meta("acceptedEpoch", 6);
    d.set_meta("currentEpoch", 5);
    ASSERT_EQ(d.snapshots().size(), 2u);
    ASSERT_EQ(d.last_logged_zxid(), old.tree.last_zxid());
  }

  /// Checks the database holds exactly `image` as one complete snapshot and nothing else.
  void expect_only(const StateImage& image) {
    auto snaps = db->snapshots();
    ASSERT_EQ(snaps.size(), 1u);
    EXPECT_EQ(snaps[0].start_zxid, image.zxid);
    EXPECT_EQ(snaps[0].end_zxid, image.zxid);
    EXPECT_EQ(snaps[0].node_count, static_cast<int64_t>(image.nodes.size()));
    EXPECT_TRUE(snaps[0].complete);
    EXPECT_TRUE(same_sessions(image.sessions, db->snapshot_sessions(snaps[0].id)));
    std::vector<SnapshotRow> rows;
    db->read_snapshot(snaps[0].id, [&](SnapshotRow r) { rows.push_back(std::move(r)); });
    ASSERT_EQ(rows.size(), image.nodes.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].path, image.nodes[i].path);
      EXPECT_EQ(rows[i].record, image.nodes[i].record) << rows[i].path;
    }
    EXPECT_EQ(db->first_logged_zxid(), 0);
    EXPECT_EQ(db->last_logged_zxid(), 0);
    EXPECT_TRUE(read_all(*db).empty());
    // Nothing of the old snapshots is left behind in the tables.
    std::string id = std::to_string(snaps[0].id);
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots"), 1);
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots WHERE id != " + id), 0);
    EXPECT_EQ(
        raw_int(path(), "SELECT count(*) FROM snapshot_chunk_refs WHERE snapshot_id != " + id), 0);
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM chunk_store"),
              raw_int(path(),
                      "SELECT count(DISTINCT chunk_id) FROM snapshot_chunk_refs WHERE "
                      "snapshot_id = " +
                          id));
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshot_sessions WHERE snapshot_id != " + id),
              0);
    EXPECT_EQ(raw_snapshot_node_count(path()), static_cast<int64_t>(image.nodes.size()));
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM txn_log"), 0);
  }

  TempDir dir;
  std::unique_ptr<Database> db;
};

TEST_F(StateDatabaseTest, ReplaceWithSnapshotLeavesOnlyThatSnapshot) {
  Builder old(3);
  fill_with_history(old);
  auto old_ids = db->snapshots();

  Builder leader(2);  // an older epoch than the history it replaces (the learner was ahead)
  build_rich_tree(leader);
  StateImage image = through_the_wire(leader);
  ASSERT_LT(image.zxid, db->last_logged_zxid());
  replace_with(*db, image.zxid, image.sessions, image.nodes);
  {
    SCOPED_TRACE("before reopening");
    expect_only(image);
  }
  for (const auto& s : old_ids) EXPECT_NE(db->snapshots()[0].id, s.id);
  open();  // durable
  {
    SCOPED_TRACE("after reopening");
    expect_only(image);
  }
  // The epochs are not part of what is replaced.
  EXPECT_EQ(db->meta("acceptedEpoch", -1), 6);
  EXPECT_EQ(db->meta("currentEpoch", -1), 5);
  EXPECT_TRUE(db->recent_txns(100).empty());

  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.snapshot_zxid, image.zxid);
  EXPECT_EQ(rec.last_zxid, image.zxid);
  EXPECT_EQ(rec.txns_replayed, 0);
  EXPECT_TRUE(same_sessions(leader.session_rows(), rec.sessions));
  EXPECT_TRUE(same_tree(leader.tree, recovered));
  EXPECT_EQ(recovered.find("/old"), nullptr);
}

TEST_F(StateDatabaseTest, ReplaceWithSnapshotOnAnEmptyDatabase) {
  Database& d = open();
  Builder leader(4);
  build_rich_tree(leader);
  StateImage image = through_the_wire(leader);
  replace_with(d, image.zxid, image.sessions, image.nodes);
  expect_only(image);
  DataTree recovered;
  recover(d, recovered);
  EXPECT_TRUE(same_tree(leader.tree, recovered));
}

TEST_F(StateDatabaseTest, TxnsAppendedAfterTheSnapshotAreReplayed) {
  Builder old(1);
  fill_with_history(old);
  Builder leader(2);
  build_rich_tree(leader);
  StateImage image = through_the_wire(leader);
  replace_with(*db, image.zxid, image.sessions, image.nodes);

  // The learner goes on logging what the leader commits after the snapshot.
  size_t before = leader.txns.size();
  leader.create("/after", "a");
  leader.create("/after/eph", "", CreateMode::kEphemeral, kOpenAcl, kSession1);
  leader.set_data("/app", "v3");
  leader.remove("/box/item");
  db->append(std::vector<Txn>(leader.txns.begin() + static_cast<long>(before), leader.txns.end()));
  size_t first_batch = leader.txns.size() - before;
  // And a new leader's epoch, with a session closing.
  leader.new_epoch(3);
  size_t mark = leader.txns.size();
  leader.close_session(kSession2);
  leader.create("/epoch3", "");
  db->append(std::vector<Txn>(leader.txns.begin() + static_cast<long>(mark), leader.txns.end()));
  size_t appended = first_batch + (leader.txns.size() - mark);

  EXPECT_EQ(db->first_logged_zxid(), image.zxid + 1);
  EXPECT_EQ(db->last_logged_zxid(), zx(3, 2));
  for (int reopen = 0; reopen < 2; ++reopen) {
    SCOPED_TRACE(reopen ? "after reopening" : "before reopening");
    DataTree recovered;
    Recovered rec = recover(*db, recovered);
    EXPECT_EQ(rec.snapshot_zxid, image.zxid);
    EXPECT_EQ(rec.last_zxid, zx(3, 2));
    EXPECT_EQ(rec.txns_replayed, static_cast<int64_t>(appended));
    EXPECT_TRUE(same_tree(leader.tree, recovered));
    EXPECT_TRUE(same_sessions(leader.session_rows(), rec.sessions));
    open();
  }
  // recent_txns sees only what was logged after the snapshot.
  auto recent = db->recent_txns(1000);
  ASSERT_EQ(recent.size(), appended);
  EXPECT_EQ(recent.front().zxid, image.zxid + 1);
}

TEST_F(StateDatabaseTest, ReplaceWithSnapshotTwiceKeepsTheSecond) {
  Database& d = open();
  Builder first(2);
  first.create("/first", "1");
  StateImage one = through_the_wire(first);
  replace_with(d, one.zxid, one.sessions, one.nodes);
  first.create("/first/x", "");
  d.append({first.txns.back()});

  Builder second(3);
  build_rich_tree(second);
  StateImage two = through_the_wire(second);
  replace_with(d, two.zxid, two.sessions, two.nodes);
  expect_only(two);
  DataTree recovered;
  recover(d, recovered);
  EXPECT_TRUE(same_tree(second.tree, recovered));
}

TEST_F(StateDatabaseTest, FailedReplaceChangesNothing) {
  Builder old(1);
  fill_with_history(old);
  Held before = held();

  Builder leader(2);
  build_rich_tree(leader);
  StateImage image = through_the_wire(leader);
  // Two rows for one session break the snapshot_sessions key half way through.
  std::vector<SessionRow> doubled = image.sessions;
  doubled.push_back(doubled.front());
  EXPECT_THROW(replace_with(*db, image.zxid, doubled, image.nodes), StorageError);

  EXPECT_EQ(held(), before);
  DataTree recovered;
  recover(*db, recovered);
  EXPECT_TRUE(same_tree(old.tree, recovered));

  // The database is still usable: a good replace goes through.
  replace_with(*db, image.zxid, image.sessions, image.nodes);
  expect_only(image);
}

// A learner stores the leader's rows while it builds its tree from them: staged rows change
// nothing a reader or a restart sees until install_snapshot.
TEST_F(StateDatabaseTest, AStagedSnapshotCountsOnlyOnceInstalled) {
  Builder old(1);
  fill_with_history(old);
  Held before = held();
  int64_t rows_before = raw_snapshot_node_count(path());
  Builder leader(2);
  build_rich_tree(leader);
  StateImage image = through_the_wire(leader);

  // Dropped when the SNAP is not installed after all.
  int64_t staged = db->stage_snapshot(image.zxid, image.sessions, image.nodes);
  EXPECT_EQ(raw_snapshot_node_count(path()),
            rows_before + static_cast<int64_t>(image.nodes.size()));
  EXPECT_EQ(held(), before);
  db->drop_snapshot(staged);
  EXPECT_EQ(raw_snapshot_node_count(path()), rows_before);
  EXPECT_EQ(held(), before);

  // A crash between staging and installing: recovery drops the staged rows.
  db->stage_snapshot(image.zxid, image.sessions, image.nodes);
  open();
  {
    DataTree recovered;
    recover(*db, recovered);
    EXPECT_TRUE(same_tree(old.tree, recovered));
  }
  EXPECT_EQ(raw_snapshot_node_count(path()), rows_before);
  EXPECT_EQ(held(), before);

  // Installed: it is the whole state.
  db->install_snapshot(db->stage_snapshot(image.zxid, image.sessions, image.nodes),
                       static_cast<int64_t>(image.nodes.size()));
  expect_only(image);
}

TEST_F(StateDatabaseTest, InstallingASnapshotThatWasNotStagedChangesNothing) {
  Builder old(1);
  fill_with_history(old);
  Held before = held();
  ASSERT_FALSE(before.snapshot_ids.empty());
  EXPECT_THROW(db->install_snapshot(before.snapshot_ids.front() + 1000, 5), StorageError);
  EXPECT_EQ(held(), before);
  DataTree recovered;
  recover(*db, recovered);
  EXPECT_TRUE(same_tree(old.tree, recovered));
}

TEST_F(StateDatabaseTest, RecentTxnsAreTheNewestOldestFirst) {
  Database& d = open();
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}}) EXPECT_TRUE(d.recent_txns(n).empty()) << n;

  std::vector<int64_t> all;
  std::vector<Txn> txns;
  for (int64_t c = 1; c <= 10; ++c) all.push_back(zx(1, c));
  for (int64_t c = 1; c <= 3; ++c) all.push_back(zx(2, c));
  for (int64_t z : all) txns.push_back(error_txn(z));
  d.append(std::vector<Txn>(txns.begin(), txns.begin() + 4));
  d.append(std::vector<Txn>(txns.begin() + 4, txns.end()));

  auto tail = [&](size_t n) {
    return std::vector<int64_t>(all.end() - static_cast<long>(n), all.end());
  };
  EXPECT_TRUE(d.recent_txns(0).empty());
  EXPECT_EQ(zxids_of(d.recent_txns(1)), tail(1));
  EXPECT_EQ(zxids_of(d.recent_txns(3)), tail(3));
  EXPECT_EQ(zxids_of(d.recent_txns(4)), tail(4));  // across the epoch change
  EXPECT_EQ(zxids_of(d.recent_txns(12)), tail(12));
  EXPECT_EQ(zxids_of(d.recent_txns(13)), all);
  EXPECT_EQ(zxids_of(d.recent_txns(14)), all);
  EXPECT_EQ(zxids_of(d.recent_txns(100000)), all);

  // After a truncation the tail moves back.
  d.truncate_after(zx(1, 8));
  EXPECT_EQ(zxids_of(d.recent_txns(2)), (std::vector<int64_t>{zx(1, 7), zx(1, 8)}));
  EXPECT_EQ(zxids_of(d.recent_txns(50)), std::vector<int64_t>(all.begin(), all.begin() + 8));
}

TEST_F(StateDatabaseTest, RecentTxnsStopWhereTheirRecordsPassTheByteBound) {
  // The history loaded at start is bounded in bytes as well as in txns: each txn read keeps its
  // record, so a log of big txns is not all read only to be trimmed.
  Database& d = open();
  std::vector<int64_t> all;
  std::vector<Txn> txns;
  for (int64_t c = 1; c <= 5; ++c) {
    all.push_back(zx(1, c));
    txns.push_back(error_txn(zx(1, c)));
  }
  d.append(txns);
  const size_t each = txn::encode_txn(txns[0]).size();
  ASSERT_EQ(txn::encode_txn(txns[4]).size(), each);  // the same size for each zxid here
  auto tail = [&](size_t n) {
    return std::vector<int64_t>(all.end() - static_cast<long>(n), all.end());
  };
  EXPECT_EQ(zxids_of(d.recent_txns(10, 2 * each)), tail(2));
  EXPECT_EQ(zxids_of(d.recent_txns(10, 3 * each - 1)), tail(2));
  EXPECT_EQ(zxids_of(d.recent_txns(10, 3 * each)), tail(3));
  EXPECT_EQ(zxids_of(d.recent_txns(4, 5 * each)), tail(4)) << "the count bounds first";
  EXPECT_TRUE(d.recent_txns(10, each - 1).empty()) << "not even the newest fits";
  for (const Txn& t : d.recent_txns(10, 5 * each)) EXPECT_EQ(t.record.size(), each);
}

TEST_F(StateDatabaseTest, RecentTxnsKeepEveryField) {
  Builder b(1);
  build_rich_tree(b);
  Database& d = open();
  d.append(b.txns);
  auto recent = d.recent_txns(5);
  ASSERT_EQ(recent.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE("txn " + std::to_string(i));
    expect_same_txn(b.txns[b.txns.size() - 5 + i], recent[i]);
  }
  auto all = d.recent_txns(b.txns.size() + 1);
  ASSERT_EQ(all.size(), b.txns.size());
  for (size_t i = 0; i < all.size(); ++i) expect_same_txn(b.txns[i], all[i]);
}

TEST_F(StateDatabaseTest, RecentTxnsAfterAPurgeStartAtTheLogsStart) {
  Builder b(1);
  b.create("/a", "");
  b.create("/b", "");
  Database& d = open();
  d.append(b.txns);
  write_snapshot(d, b.tree, {}, 3);
  size_t mark = b.txns.size();
  b.create("/c", "");
  b.create("/d", "");
  d.append(std::vector<Txn>(b.txns.begin() + static_cast<long>(mark), b.txns.end()));
  write_snapshot(d, b.tree, {}, 3);
  b.create("/e", "");
  d.append({b.txns.back()});
  d.purge(1);
  ASSERT_EQ(d.first_logged_zxid(), zx(1, 5));
  EXPECT_EQ(zxids_of(d.recent_txns(10)), (std::vector<int64_t>{zx(1, 5)}));
  EXPECT_EQ(zxids_of(d.recent_txns(1)), (std::vector<int64_t>{zx(1, 5)}));
}

TEST_F(StateDatabaseTest, RecentTxnsWithAnUnboundedCountReturnEverything) {
  Database& d = open();
  d.append({error_txn(zx(1, 1)), error_txn(zx(1, 2)), error_txn(zx(1, 3))});
  // "All of them", however it is asked for: a count beyond INT64_MAX must not wrap negative.
  EXPECT_EQ(zxids_of(d.recent_txns(static_cast<size_t>(INT64_MAX))).size(), 3u);
  EXPECT_EQ(zxids_of(d.recent_txns(SIZE_MAX)),
            (std::vector<int64_t>{zx(1, 1), zx(1, 2), zx(1, 3)}));
}

}  // namespace
}  // namespace corral::storage
