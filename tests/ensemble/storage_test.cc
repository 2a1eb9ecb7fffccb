// The storage layer: the SQLite database (txn log, snapshots, meta, purge),
// the record codecs, fuzzy snapshots taken while the tree changes, and
// recovery, including the ways recovery must refuse a damaged database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/snapshot_codec.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/storage/storage_thread.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"
#include "ensemble/tree/txn_prep.h"
#include "ensemble/txn/txn_codec.h"
#include "tests/ensemble/storage_support.h"
#include "wire/path.h"

namespace corral::storage {
namespace {

using tree::DataTree;
using tree::Txn;
using tree::TxnOp;
using wire::CreateMode;
using wire::ErrorCode;
using wire::OpCode;

constexpr int64_t kEpoch1 = int64_t{1} << 32;

int64_t zx(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

// ---- helpers ----------------------------------------------------------------------------------

// ---- a random workload ------------------------------------------------------------------------

/// A live tree changed by a seeded random stream of txns made with TxnPrep, every txn
/// logged to `db` before it is applied (as the server does: durable, then applied).
class Workload {
 public:
  Workload(uint32_t seed, Database& db, int max_depth = 4)
      : rng_(seed), db_(&db), max_depth_(max_depth) {}

  /// Logs to `db` from now on (after the test reopened the database).
  void set_db(Database& db) { db_ = &db; }

  DataTree live;
  std::map<int64_t, SessionRow> sessions;

  /// Prepares a batch of 1 to 4 txns, appends them in one group commit, then applies them.
  /// Returns the number of txns.
  int step() {
    int n = pick(1, 4);
    std::vector<Txn> batch;
    for (int i = 0; i < n; ++i) batch.push_back(make_txn());
    db_->append(batch);
    for (const auto& t : batch) {
      live.apply(t);
      prep_.applied(t.zxid);
    }
    return n;
  }

  void steps(int n) {
    for (int done = 0; done < n;) done += step();
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  std::vector<SessionRow> session_rows() const {
    std::vector<SessionRow> out;
    for (const auto& [id, s] : sessions) out.push_back(s);
    return out;
  }

 private:
  tree::PrepContext ctx(int64_t session) {
    now_ms_ += pick(0, 20);
    return {session, ++cxid_, ++zxid_, now_ms_, &ids_};
  }

  std::string random_data() {
    int len = pick(0, 24);
    std::string s;
    for (int i = 0; i < len; ++i) s += static_cast<char>(pick(0, 255));
    return s;
  }

  wire::AclList random_acl() {
    switch (pick(0, 5)) {
      case 0:
        return {{wire::perms::kRead | wire::perms::kAdmin, {"world", "anyone"}}};
      case 1:
        return {{wire::perms::kAll, {"ip", "127.0.0.1"}}};
      case 2:
        return {{wire::perms::kRead, {"world", "anyone"}},
                {wire::perms::kAll, {"ip", "127.0.0.0/8"}}};
      case 3:
        return {{wire::perms::kAll & ~wire::perms::kDelete, {"world", "anyone"}}};
      default:
        return kOpenAcl;
    }
  }

  /// A random path of the tree; `leaf` prefers nodes without children.
  std::string random_path(bool leaf) {
    std::vector<std::string> paths;
    for (auto& p : live.paths()) {
      if (p == "/" || p.starts_with("/zookeeper")) continue;
      if (leaf && !live.find(p)->children.empty()) continue;
      paths.push_back(std::move(p));
    }
    if (paths.empty()) return "/a";
    return paths[static_cast<size_t>(pick(0, static_cast<int>(paths.size()) - 1))];
  }

  std::string random_parent() {
    std::vector<std::string> paths;
    for (auto& p : live.paths()) {
      if (p.starts_with("/zookeeper")) continue;
      if (std::count(p.begin(), p.end(), '/') >= max_depth_) continue;
      paths.push_back(std::move(p));
    }
    return paths[static_cast<size_t>(pick(0, static_cast<int>(paths.size()) - 1))];
  }

  int64_t random_session() {
    auto it = sessions.begin();
    std::advance(it, pick(0, static_cast<int>(sessions.size()) - 1));
    return it->first;
  }

  tree::WriteOp random_write(bool in_multi) {
    int kind = pick(0, in_multi ? 99 : 89);
    if (kind < 40) {  // create
      wire::CreateRequest req;
      std::string parent = random_parent();
      req.path = wire::child_path(parent, std::string(1, static_cast<char>('a' + pick(0, 4))));
      req.data_null = chance(10);
      if (!req.data_null) req.data = random_data();
      req.acl = chance(80) ? kOpenAcl : random_acl();
      OpCode type = chance(50) ? OpCode::kCreate : OpCode::kCreate2;
      switch (pick(0, 9)) {
        case 0:
        case 1:
          req.flags = int32_t(CreateMode::kEphemeral);
          break;
        case 2:
          req.flags = int32_t(CreateMode::kEphemeralSequential);
          break;
        case 3:
          req.flags = int32_t(CreateMode::kPersistentSequential);
          break;
        case 4:
          req.flags = int32_t(CreateMode::kContainer);
          type = OpCode::kCreateContainer;
          break;
        case 5:
          req.flags = int32_t(chance(50) ? CreateMode::kPersistentWithTtl
                                         : CreateMode::kPersistentSequentialWithTtl);
          req.ttl = pick(1, 100000);
          type = OpCode::kCreateTtl;
          break;
        default:
          req.flags = int32_t(CreateMode::kPersistent);
          break;
      }
      return {type, req};
    }
    if (kind < 60) {  // delete, mostly of leaves
      std::string path = random_path(chance(80));
      int32_t version = chance(80) ? -1 : pick(0, 2);
      OpCode type = chance(10) ? OpCode::kDeleteContainer : OpCode::kDelete;
      return {type, wire::PathVersionRequest{path, version}};
    }
    if (kind < 80) {  // setData
      wire::SetDataRequest req;
      req.path = random_path(false);
      req.data_null = chance(10);
      if (!req.data_null) req.data = random_data();
      req.version = chance(80) ? -1 : pick(0, 3);
      return {OpCode::kSetData, req};
    }
    if (kind < 90) {  // setACL
      return {OpCode::kSetAcl,
              wire::SetAclRequest{random_path(false), random_acl(), chance(80) ? -1 : pick(0, 2)}};
    }
    return {OpCode::kCheck, wire::PathVersionRequest{random_path(false), pick(-1, 2)}};
  }

  Txn make_txn() {
    if (sessions.empty() || chance(3)) return create_session();
    int kind = pick(0, 99);
    int64_t session = random_session();
    if (kind < 4) {
      Txn t = prep_.prepare_close_session(ctx(session));
      sessions.erase(session);
      return t;
    }
    if (kind < 20) {
      std::vector<tree::WriteOp> ops;
      for (int i = pick(1, 4); i > 0; --i) ops.push_back(random_write(true));
      return prep_.prepare_multi(ctx(session), ops);
    }
    return prep_.prepare(ctx(session), random_write(false));
  }

  Txn create_session() {
    int64_t id = 0x0100000000000000 + next_session_++;
    Txn t = prep_.prepare_create_session(ctx(id), pick(2000, 40000));
    t.session_passwd = random_data();
    sessions[id] = {id, t.session_timeout_ms, t.session_passwd};
    return t;
  }

  std::mt19937 rng_;
  Database* db_;
  int max_depth_;
  tree::TxnPrep prep_{live, /*extended_types=*/true};
  tree::AuthIds ids_{{"ip", "127.0.0.1"}};
  int64_t zxid_ = kEpoch1;
  int32_t cxid_ = 0;
  int64_t now_ms_ = 1'700'000'000'000;
  int64_t next_session_ = 1;
};

::testing::AssertionResult same_sessions(const std::map<int64_t, SessionRow>& want,
                                         const std::vector<SessionRow>& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure()
           << "want " << want.size() << " sessions, got " << got.size();
  for (const auto& s : got) {
    auto it = want.find(s.id);
    if (it == want.end()) return ::testing::AssertionFailure() << "extra session " << s.id;
    if (it->second.timeout_ms != s.timeout_ms || it->second.passwd != s.passwd)
      return ::testing::AssertionFailure() << "session " << s.id << " differs";
  }
  return ::testing::AssertionSuccess();
}

class StorageTest : public ::testing::Test {
 protected:
  std::string path() const { return dir.file("corral.db"); }
  Database& open() {
    db.reset();
    db = std::make_unique<Database>(path(), /*force_sync=*/false);
    return *db;
  }
  void close() { db.reset(); }
  void expect_loads_then_goes(const DataTree& live, int64_t id, const std::string& table);

  TempDir dir;
  std::unique_ptr<Database> db;
};

// ---- the txn log ------------------------------------------------------------------------------

TEST_F(StorageTest, EveryTxnKindRoundTrips) {
  std::vector<Txn> txns;
  int64_t counter = 0;
  auto next = [&](OpCode type, int64_t session = 0x0100000000000001) {
    Txn t;
    t.session_id = session;
    t.cxid = static_cast<int32_t>(counter * 3 + 1);
    t.zxid = zx(1, ++counter);
    t.time_ms = 1'700'000'000'000 + counter;
    t.type = type;
    return t;
  };
  auto op = [](OpCode type, std::string path) {
    TxnOp o;
    o.type = type;
    o.path = std::move(path);
    return o;
  };
  const wire::AclList mixed{{wire::perms::kRead, {"world", "anyone"}},
                            {wire::perms::kAll, {"digest", "bob:c2VjcmV0PT0="}},
                            {wire::perms::kWrite | wire::perms::kCreate, {"ip", "10.0.0.0/8"}}};

  Txn session = next(OpCode::kCreateSession, 0x0100000000000001);
  session.session_timeout_ms = 30000;
  session.session_passwd = std::string("\0\x01\xff pass\0word", 14);
  txns.push_back(session);

  for (OpCode type : {OpCode::kCreate, OpCode::kCreate2}) {
    Txn t = next(type);
    TxnOp o = op(type, "/plain" + std::to_string(static_cast<int>(type)));
    o.data = std::string("bin\0ary\xff", 8);
    o.acl = mixed;
    o.parent_cversion = 7;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kCreate);
    TxnOp o = op(OpCode::kCreate, "/eph0000000012");
    o.data_null = true;
    o.acl = kOpenAcl;
    o.ephemeral_owner = 0x0100000000000001;
    o.parent_cversion = INT32_MAX;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kCreateContainer);
    TxnOp o = op(OpCode::kCreateContainer, "/container");
    o.acl = kOpenAcl;
    o.ephemeral_owner = tree::kContainerOwner;
    o.parent_cversion = -5;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kCreateTtl);
    TxnOp o = op(OpCode::kCreateTtl, "/ttl0000000001");
    o.data = "ttl";
    o.acl = kOpenAcl;
    o.ephemeral_owner = tree::ttl_owner(tree::kMaxTtlMs);
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kDelete);
    t.ops.push_back(op(OpCode::kDelete, "/plain1"));
    txns.push_back(t);
    Txn c = next(OpCode::kDeleteContainer, 0);
    c.ops.push_back(op(OpCode::kDeleteContainer, "/container"));
    txns.push_back(c);
  }
  for (bool null : {false, true}) {
    Txn t = next(OpCode::kSetData);
    TxnOp o = op(OpCode::kSetData, "/plain15");
    o.data_null = null;
    if (!null) o.data = std::string(1000, '\0');
    o.version = null ? -2147483647 - 1 : 12;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kSetAcl);
    TxnOp o = op(OpCode::kSetAcl, "/plain15");
    o.acl = mixed;
    o.version = 3;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kCheck);
    TxnOp o = op(OpCode::kCheck, "/plain15");
    o.version = 1;
    t.ops.push_back(o);
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kMulti);
    TxnOp c = op(OpCode::kCreate2, "/m/a");
    c.data = "x";
    c.acl = mixed;
    c.parent_cversion = 1;
    t.ops.push_back(c);
    TxnOp check = op(OpCode::kCheck, "/m");
    check.version = -1;
    t.ops.push_back(check);
    TxnOp set = op(OpCode::kSetData, "/m");
    set.data_null = true;
    set.version = 4;
    t.ops.push_back(set);
    t.ops.push_back(op(OpCode::kDelete, "/m/b"));
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kMulti);
    for (ErrorCode e : {ErrorCode::kOk, ErrorCode::kBadVersion, ErrorCode::kRuntimeInconsistency}) {
      TxnOp o;
      o.type = OpCode::kError;
      o.err = e;
      t.ops.push_back(o);
    }
    txns.push_back(t);
  }
  {
    Txn t = next(OpCode::kError);
    t.err = ErrorCode::kNodeExists;
    txns.push_back(t);
  }
  txns.push_back(next(OpCode::kCloseSession));
  {
    Txn t = next(OpCode::kCreate);  // a later epoch
    t.zxid = zx(2, 1);
    TxnOp o = op(OpCode::kCreate, "/");
    t.ops.push_back(o);
    txns.push_back(t);
  }

  Database& d = open();
  // Two group commits: the first batch of one, the rest together.
  d.append({txns.front()});
  d.append(std::vector<Txn>(txns.begin() + 1, txns.end()));
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto got = read_all(*db);
    ASSERT_EQ(got.size(), txns.size());
    for (size_t i = 0; i < txns.size(); ++i) {
      SCOPED_TRACE("txn " + std::to_string(i));
      expect_same_txn(txns[i], got[i]);
    }
    open();
  }
  // The readable columns say what the record says.
  close();
  EXPECT_EQ(
      raw_int(path(), "SELECT type FROM txn_log WHERE zxid = " + std::to_string(session.zxid)),
      -10);
  EXPECT_EQ(raw_int(path(),
                    "SELECT session_id FROM txn_log WHERE zxid = " + std::to_string(session.zxid)),
            session.session_id);
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM txn_log WHERE type = 14"), 2);
}

TEST_F(StorageTest, DuplicateZxidRollsBackTheWholeBatch) {
  Database& d = open();
  d.append({error_txn(zx(1, 1)), error_txn(zx(1, 2))});
  try {
    d.append({error_txn(zx(1, 3)), error_txn(zx(1, 2))});
    FAIL() << "duplicate zxid accepted";
  } catch (const StorageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path()), std::string::npos) << msg;
    EXPECT_NE(msg.find("0x100000002"), std::string::npos) << msg;
    EXPECT_NE(msg.find("UNIQUE"), std::string::npos) << msg;
  }
  EXPECT_EQ(zxids_of(read_all(d)), (std::vector<int64_t>{zx(1, 1), zx(1, 2)}));
  // Still usable after the failed batch.
  d.append({error_txn(zx(1, 3))});
  EXPECT_EQ(d.last_logged_zxid(), zx(1, 3));
}

TEST_F(StorageTest, ATxnEncodedAlreadyIsLoggedAsItsRecord) {
  // Txn::record (the bytes a learner received, the leader's one encoding) is what the log
  // stores, not encoded again: a record standing for other data (never so outside this test)
  // shows which was written. A txn without one is encoded here.
  Database& d = open();
  Txn encoded;
  encoded.zxid = zx(1, 1);
  encoded.type = OpCode::kSetData;
  TxnOp set;
  set.type = OpCode::kSetData;
  set.path = "/a";
  encoded.ops.push_back(set);
  Txn other = encoded;
  other.ops[0].data = "from the record";
  encoded.record = txn::encode_txn(other);
  Txn plain = other;
  plain.zxid = zx(1, 2);
  plain.ops[0].data = "encoded here";
  d.append({encoded, plain});
  const std::vector<Txn> back = read_all(d);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].ops.at(0).data, "from the record");
  EXPECT_EQ(back[1].ops.at(0).data, "encoded here");
}

TEST_F(StorageTest, TxnsReadBackCarryTheBytesTheLogHolds) {
  // A txn read from the log keeps its row's bytes as its record: a DIFF from the log, or from
  // the history loaded at start, sends them as they are. A row with a field this Corral does
  // not know (a newer one's: field 100, varint 1), which decoding skips and encoding would
  // drop, shows the record is the row's bytes, not an encoding of what was read.
  Database& d = open();
  Txn plain = error_txn(zx(1, 1));
  Txn logged = error_txn(zx(1, 2));
  const std::string with_unknown = txn::encode_txn(logged) + std::string("\xa0\x06\x01", 3);
  logged.record = with_unknown;
  d.append({plain, logged});
  const std::vector<std::string> rows{txn::encode_txn(plain), with_unknown};
  auto records = [](const std::vector<Txn>& txns) {
    std::vector<std::string> out;
    for (const Txn& t : txns) out.push_back(t.record);
    return out;
  };
  EXPECT_EQ(records(read_all(d)), rows) << "read_log";
  EXPECT_EQ(records(d.recent_txns(10)), rows) << "recent_txns";
  std::vector<Txn> range;
  d.read_log_range(zx(1, 1), zx(1, 2), SIZE_MAX, [&](Txn t) { range.push_back(std::move(t)); });
  EXPECT_EQ(records(range), std::vector<std::string>{rows[1]}) << "read_log_range";
}

TEST_F(StorageTest, BatchesOfEverySizeAreLoggedInOrder) {
  // A batch goes in as INSERTs of up to 32 rows each (database.cc): sizes around that.
  Database& d = open();
  std::vector<Txn> logged;
  int64_t counter = 0;
  for (size_t size : {1, 2, 31, 32, 33, 64, 65, 100}) {
    std::vector<Txn> batch;
    for (size_t i = 0; i < size; ++i) {
      Txn t;
      t.zxid = zx(1, ++counter);
      t.type = OpCode::kSetData;
      TxnOp op;
      op.type = OpCode::kSetData;
      op.path = "/k" + std::to_string(counter);
      op.data = std::string(static_cast<size_t>(counter % 300), 'd');
      op.version = static_cast<int32_t>(counter);
      t.ops.push_back(op);
      batch.push_back(t);
    }
    d.append(batch);
    logged.insert(logged.end(), batch.begin(), batch.end());
  }
  const std::vector<Txn> back = read_all(d);
  ASSERT_EQ(back.size(), logged.size());
  for (size_t i = 0; i < back.size(); ++i)
    EXPECT_EQ(txn::encode_txn(back[i]), txn::encode_txn(logged[i])) << "row " << i;
}

TEST_F(StorageTest, ADuplicateInsideAManyRowInsertIsNamedAndRollsBackTheBatch) {
  Database& d = open();
  d.append({error_txn(zx(1, 1)), error_txn(zx(1, 2))});
  std::vector<Txn> batch;
  for (int64_t c = 3; c < 43; ++c) batch.push_back(error_txn(zx(1, c)));
  batch[34] = error_txn(zx(1, 2));  // the 35th of 40: inside the second INSERT
  try {
    d.append(batch);
    FAIL() << "duplicate zxid accepted";
  } catch (const StorageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("cannot append zxid 0x100000002"), std::string::npos) << msg;
    EXPECT_NE(msg.find("UNIQUE"), std::string::npos) << msg;
  }
  EXPECT_EQ(zxids_of(read_all(d)), (std::vector<int64_t>{zx(1, 1), zx(1, 2)}));
  batch[34] = error_txn(zx(1, 37));
  d.append(batch);
  EXPECT_EQ(read_all(d).size(), 42u);
}

TEST_F(StorageTest, AManyRowInsertWhoseTransactionIsGoneWritesNoRowAlone) {
  // A failure that rolls back the whole transaction (an I/O error; here a trigger's
  // RAISE(ROLLBACK)): the batch's rows must not go again one by one, outside any transaction.
  Database& d = open();
  d.append({error_txn(zx(1, 1)), error_txn(zx(1, 2))});
  raw_sql(path(), "CREATE TRIGGER boom BEFORE INSERT ON txn_log WHEN NEW.zxid = " +
                      std::to_string(zx(1, 37)) + " BEGIN SELECT RAISE(ROLLBACK, 'boom'); END");
  std::vector<Txn> batch;
  for (int64_t c = 3; c < 43; ++c) batch.push_back(error_txn(zx(1, c)));
  try {
    d.append(batch);
    FAIL() << "the trigger did not fire";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
  }
  EXPECT_EQ(zxids_of(read_all(d)), (std::vector<int64_t>{zx(1, 1), zx(1, 2)}));
  raw_sql(path(), "DROP TRIGGER boom");
  d.append(batch);
  EXPECT_EQ(read_all(d).size(), 42u);
}

TEST_F(StorageTest, ReadLogAfterBoundaries) {
  Database& d = open();
  EXPECT_TRUE(read_all(d).empty());
  std::vector<int64_t> all{zx(1, 1), zx(1, 2), zx(1, 3), zx(2, 1), zx(2, 2), zx(5, 1)};
  std::vector<Txn> txns;
  for (int64_t z : all) txns.push_back(error_txn(z));
  d.append(txns);
  EXPECT_EQ(zxids_of(read_all(d, 0)), all);
  EXPECT_EQ(zxids_of(read_all(d, -1)), all);
  EXPECT_EQ(zxids_of(read_all(d, zx(1, 1))), std::vector<int64_t>(all.begin() + 1, all.end()));
  EXPECT_EQ(zxids_of(read_all(d, zx(1, 3))), std::vector<int64_t>(all.begin() + 3, all.end()));
  // Between logged zxids: the next one up.
  EXPECT_EQ(zxids_of(read_all(d, zx(1, 7))), std::vector<int64_t>(all.begin() + 3, all.end()));
  EXPECT_EQ(zxids_of(read_all(d, zx(2, 2))), (std::vector<int64_t>{zx(5, 1)}));
  EXPECT_TRUE(read_all(d, zx(5, 1)).empty());
  EXPECT_TRUE(read_all(d, INT64_MAX).empty());
}

TEST_F(StorageTest, TruncateAfterAndLoggedZxids) {
  Database& d = open();
  EXPECT_EQ(d.first_logged_zxid(), 0);
  EXPECT_EQ(d.last_logged_zxid(), 0);
  std::vector<Txn> txns;
  for (int64_t c = 1; c <= 10; ++c) txns.push_back(error_txn(zx(3, c)));
  d.append(txns);
  EXPECT_EQ(d.first_logged_zxid(), zx(3, 1));
  EXPECT_EQ(d.last_logged_zxid(), zx(3, 10));
  d.truncate_after(zx(3, 20));  // beyond the end: nothing
  EXPECT_EQ(d.last_logged_zxid(), zx(3, 10));
  d.truncate_after(zx(3, 6));
  EXPECT_EQ(d.last_logged_zxid(), zx(3, 6));
  EXPECT_EQ(d.first_logged_zxid(), zx(3, 1));
  EXPECT_EQ(read_all(d).size(), 6u);
  // The log continues after the truncation point (a new leader's txns).
  d.append({error_txn(zx(4, 1))});
  EXPECT_EQ(zxids_of(read_all(d, zx(3, 5))), (std::vector<int64_t>{zx(3, 6), zx(4, 1)}));
}

TEST_F(StorageTest, TruncateIsDurable) {
  {
    Database& d = open();
    std::vector<Txn> txns;
    for (int64_t c = 1; c <= 5; ++c) txns.push_back(error_txn(zx(1, c)));
    d.append(txns);
    d.truncate_after(zx(1, 2));
    d.truncate_after(0);
    EXPECT_EQ(d.first_logged_zxid(), 0);
    d.append({error_txn(zx(1, 1))});
  }
  Database& d = open();
  EXPECT_EQ(zxids_of(read_all(d)), (std::vector<int64_t>{zx(1, 1)}));
}

TEST_F(StorageTest, MetaSurvivesReopen) {
  {
    Database& d = open();
    EXPECT_EQ(d.meta("acceptedEpoch", -1), -1);
    d.set_meta("acceptedEpoch", 5);
    d.set_meta("currentEpoch", 4);
    d.set_meta("acceptedEpoch", 6);  // overwrite
    d.set_meta("big", INT64_MIN);
  }
  Database& d = open();
  EXPECT_EQ(d.meta("acceptedEpoch", -1), 6);
  EXPECT_EQ(d.meta("currentEpoch", -1), 4);
  EXPECT_EQ(d.meta("big", 0), INT64_MIN);
  EXPECT_EQ(d.meta("missing", 42), 42);
  close();
  EXPECT_EQ(raw_int(path(), "SELECT value FROM meta WHERE key = 'acceptedEpoch'"), 6);
}

TEST_F(StorageTest, ZxidFollows) {
  EXPECT_TRUE(zxid_follows(zx(1, 1), zx(1, 2)));
  EXPECT_TRUE(zxid_follows(zx(1, 99), zx(1, 100)));
  EXPECT_TRUE(zxid_follows(zx(1, 0xfffffffe), zx(1, 0xffffffff)));
  EXPECT_TRUE(zxid_follows(zx(1, 5), zx(2, 1)));
  EXPECT_TRUE(zxid_follows(zx(1, 5), zx(7, 1)));
  EXPECT_TRUE(zxid_follows(0, zx(1, 1)));
  EXPECT_FALSE(zxid_follows(zx(1, 1), zx(1, 3)));  // gap
  EXPECT_FALSE(zxid_follows(zx(1, 2), zx(1, 2)));  // repeat
  EXPECT_FALSE(zxid_follows(zx(1, 3), zx(1, 2)));  // backwards
  EXPECT_FALSE(zxid_follows(zx(1, 5), zx(2, 2)));  // new epoch must start at 1
  EXPECT_FALSE(zxid_follows(zx(1, 5), zx(2, 0)));
  EXPECT_FALSE(zxid_follows(zx(2, 5), zx(1, 6)));  // older epoch
  EXPECT_FALSE(zxid_follows(zx(2, 1), zx(1, 1)));
  EXPECT_FALSE(zxid_follows(0, zx(1, 2)));
}

TEST_F(StorageTest, ZxidText) {
  EXPECT_EQ(zxid_text(0), "0x0");
  EXPECT_EQ(zxid_text(zx(1, 0x1a)), "0x10000001a");
}

// A client's ACL id may be any bytes: the log's record of it must decode again (it did not
// while Id's fields were proto3 strings, which protobuf parses only as UTF-8).
TEST_F(StorageTest, AnAclIdThatIsNotUtf8StaysReadable) {
  Txn t;
  t.zxid = zx(1, 1);
  t.type = OpCode::kCreate;
  TxnOp op;
  op.type = OpCode::kCreate;
  op.path = "/a";
  op.acl = {{wire::perms::kAll, {"digest", "u\xff:h\xc3"}}, {1, {"x\x80", "anyone"}}};
  t.ops.push_back(op);
  const Txn back = txn::decode_txn(txn::encode_txn(t));
  ASSERT_EQ(back.ops.size(), 1u);
  EXPECT_EQ(back.ops[0].acl, op.acl);
}

TEST_F(StorageTest, MalformedTxnRecordIsRejected) {
  EXPECT_THROW(txn::decode_txn(std::string("\xff\xff\xff", 3)), txn::DecodeError);
  Txn t = error_txn(zx(1, 1));
  EXPECT_EQ(txn::decode_txn(txn::encode_txn(t)).zxid, zx(1, 1));
}

// ---- the storage thread ----------------------------------------------------------------------

TEST_F(StorageTest, StorageThreadCompletesInSubmissionOrderWithGroupCommit) {
  Database& d = open();
  std::mutex mu;
  std::vector<std::function<void()>> posted;
  std::vector<std::string> order;
  {
    StorageThread storage(d, [&](std::function<void()> f) {
      std::lock_guard lock(mu);
      posted.push_back(std::move(f));
    });
    for (int64_t c = 1; c <= 2000; ++c) {
      storage.append(tree::share(error_txn(zx(1, c))),
                     [&order, c] { order.push_back("txn" + std::to_string(c)); });
      if (c % 500 == 0)
        storage.run(
            [c](Database& db) {
              // Every txn submitted before the job is in the log when it runs.
              EXPECT_EQ(db.last_logged_zxid(), zx(1, c));
              db.set_meta("job", c);
            },
            [&order, c] { order.push_back("job" + std::to_string(c)); });
    }
    storage.stop();
    EXPECT_EQ(storage.appended(), 2000u);
    EXPECT_GE(storage.batches(), 1u);
    EXPECT_LE(storage.batches(), 2000u);
  }
  for (auto& f : posted) f();  // the core's thread runs the completions
  std::vector<std::string> want;
  for (int64_t c = 1; c <= 2000; ++c) {
    want.push_back("txn" + std::to_string(c));
    if (c % 500 == 0) want.push_back("job" + std::to_string(c));
  }
  EXPECT_EQ(order, want);
  EXPECT_EQ(read_all(d).size(), 2000u);
  EXPECT_EQ(d.meta("job", 0), 2000);
}

TEST_F(StorageTest, WhenDoneKeepsItsPlaceWithoutSplittingAGroupCommit) {
  // A follower catching up behind a SNAP's install queues one txn and one when_done() per
  // PROPOSAL: the txns must still share a transaction (a no-op job between each pair cost
  // an fsync per txn, 4 s for 7,000 txns).
  Database& d = open();
  std::vector<std::function<void()>> posted;
  std::vector<std::string> order;
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  {
    StorageThread storage(d, [&](std::function<void()> f) { posted.push_back(std::move(f)); });
    // Everything after this job is queued while it runs, so the thread takes it all at once.
    storage.run(
        [&started, released](Database&) {
          started.set_value();
          released.wait();
        },
        [] {});
    started.get_future().wait();
    for (int64_t c = 1; c <= 100; ++c) {
      storage.append(tree::share(error_txn(zx(1, c))),
                     [&order, c] { order.push_back("txn" + std::to_string(c)); });
      storage.when_done([&order, c] { order.push_back("done" + std::to_string(c)); });
    }
    release.set_value();
    storage.stop();
    EXPECT_EQ(storage.appended(), 100u);
    EXPECT_EQ(storage.batches(), 1u);
  }
  for (auto& f : posted) f();
  std::vector<std::string> want;
  for (int64_t c = 1; c <= 100; ++c) {
    want.push_back("txn" + std::to_string(c));
    want.push_back("done" + std::to_string(c));
  }
  EXPECT_EQ(order, want);
}

// ---- snapshots --------------------------------------------------------------------------------

/// A tree of about `nodes` nodes of every kind, built through TxnPrep, and its txns.
struct BigTree {
  DataTree tree;
  std::vector<Txn> txns;
  std::vector<SessionRow> sessions;
};

void build_big_tree(BigTree& big, int nodes, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  tree::TxnPrep prep(big.tree, /*extended_types=*/true);
  tree::AuthIds ids{{"ip", "127.0.0.1"}};
  int64_t zxid = zx(1, 0);
  int64_t now = 1'700'000'000'000;
  const std::vector<wire::AclList> acls{
      kOpenAcl,
      {{wire::perms::kRead, {"world", "anyone"}}, {wire::perms::kAll, {"ip", "127.0.0.1"}}},
      {{wire::perms::kAll, {"digest", "alice:aGFzaA=="}}, {wire::perms::kAll, {"ip", "127.0.0.1"}}},
      {{wire::perms::kAll & ~wire::perms::kCreate, {"world", "anyone"}}},
  };
  auto run = [&](Txn t) {
    big.tree.apply(t);
    prep.applied(t.zxid);
    big.txns.push_back(std::move(t));
  };
  auto ctx = [&](int64_t session) {
    return tree::PrepContext{session, 1, ++zxid, now += pick(0, 3), &ids};
  };
  std::vector<int64_t> sessions;
  for (int i = 0; i < 8; ++i) {
    int64_t id = 0x0200000000000000 + i;
    Txn t = prep.prepare_create_session(ctx(id), 10000 + i);
    t.session_passwd = std::string(16, static_cast<char>(i));
    big.sessions.push_back({id, t.session_timeout_ms, t.session_passwd});
    sessions.push_back(id);
    run(std::move(t));
  }
  std::vector<std::string> parents{"/"};
  int made = 0;
  while (made < nodes) {
    wire::CreateRequest req;
    const std::string& parent = parents[static_cast<size_t>(pick(0, int(parents.size()) - 1))];
    req.path = wire::child_path(parent, "n" + std::to_string(made));
    int kind = pick(0, 19);
    OpCode type = OpCode::kCreate2;
    if (kind == 0) {
      req.data_null = true;
    } else {
      int len = pick(0, 3) == 0 ? pick(100, 2000) : pick(0, 40);
      for (int i = 0; i < len; ++i) req.data += static_cast<char>(pick(0, 255));
    }
    req.acl = acls[static_cast<size_t>(pick(0, int(acls.size()) - 1))];
    int64_t session = sessions[static_cast<size_t>(pick(0, int(sessions.size()) - 1))];
    switch (kind % 10) {
      case 1:
        req.flags = int32_t(CreateMode::kEphemeral);
        break;
      case 2:
        req.flags = int32_t(CreateMode::kPersistentSequential);
        break;
      case 3:
        req.flags = int32_t(CreateMode::kContainer);
        type = OpCode::kCreateContainer;
        break;
      case 4:
        req.flags = int32_t(CreateMode::kPersistentWithTtl);
        req.ttl = pick(1, 1 << 30);
        type = OpCode::kCreateTtl;
        break;
      case 5:
        req.flags = int32_t(CreateMode::kEphemeralSequential);
        break;
      default:
        req.flags = int32_t(CreateMode::kPersistent);
        break;
    }
    Txn t = prep.prepare(ctx(session), {type, req});
    if (t.type == OpCode::kError) {  // e.g. a child of an ephemeral, or no create permission
      run(std::move(t));
      continue;
    }
    std::string created = t.ops.front().path;
    bool can_have_children = req.flags != int32_t(CreateMode::kEphemeral) &&
                             req.flags != int32_t(CreateMode::kEphemeralSequential);
    run(std::move(t));
    ++made;
    if (can_have_children && pick(0, 3) == 0) parents.push_back(created);
  }
  // Versions, ACL versions, and deletions (cversion/pzxid) on some of them.
  auto paths = big.tree.paths();
  for (size_t i = 0; i < paths.size(); i += 7) {
    if (paths[i].starts_with("/zookeeper") || paths[i] == "/") continue;
    wire::SetDataRequest set;
    set.path = paths[i];
    set.data = "v" + std::to_string(i);
    set.data_null = i % 3 == 0;
    if (set.data_null) set.data.clear();
    run(prep.prepare(ctx(0), {OpCode::kSetData, set}));
    if (i % 5 == 0)
      run(prep.prepare(ctx(0), {OpCode::kSetAcl, wire::SetAclRequest{paths[i], acls[i % 4], -1}}));
    const tree::Node* n = big.tree.find(paths[i]);
    if (n && n->children.empty() && i % 2 == 0)
      run(prep.prepare(ctx(0), {OpCode::kDelete, wire::PathVersionRequest{paths[i], -1}}));
  }
  // One session closes: its ephemerals go.
  run(prep.prepare_close_session(ctx(sessions.back())));
  big.sessions.pop_back();
}

TEST_F(StorageTest, LargeSnapshotRoundTrip) {
  BigTree big;
  build_big_tree(big, 100000, 1);
  ASSERT_GT(big.tree.node_count(), 90000u);
  ASSERT_FALSE(big.tree.containers().empty());
  ASSERT_FALSE(big.tree.ttl_nodes().empty());
  ASSERT_GT(big.tree.ephemeral_counts().size(), 3u);

  Database& d = open();
  for (size_t i = 0; i < big.txns.size(); i += 5000)
    d.append(std::vector<Txn>(
        big.txns.begin() + static_cast<long>(i),
        big.txns.begin() + static_cast<long>(std::min(i + 5000, big.txns.size()))));
  int64_t id = write_snapshot(d, big.tree, big.sessions);
  open();  // durable

  auto snaps = db->snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].id, id);
  EXPECT_EQ(snaps[0].start_zxid, big.tree.last_zxid());
  EXPECT_EQ(snaps[0].end_zxid, big.tree.last_zxid());
  EXPECT_EQ(snaps[0].node_count, static_cast<int64_t>(big.tree.node_count()));
  EXPECT_TRUE(snaps[0].complete);

  // Loaded straight from the rows.
  DataTree loaded;
  size_t rows = 0;
  db->read_snapshot(id, [&](SnapshotRow row) {
    ++rows;
    tree::Node node;
    ASSERT_TRUE(decode_node(row.record, loaded, node)) << row.path;
    auto done = loaded.load_node(row.path, std::move(node), /*may_replace=*/true);
    ASSERT_TRUE(done == DataTree::Loaded::kAdded || done == DataTree::Loaded::kReplaced)
        << row.path;
  });
  EXPECT_EQ(rows, big.tree.node_count());
  EXPECT_TRUE(same_tree(big.tree, loaded, /*check_last_zxid=*/false));
  std::map<int64_t, SessionRow> want_sessions;
  for (const auto& s : big.sessions) want_sessions[s.id] = s;
  EXPECT_TRUE(same_sessions(want_sessions, db->snapshot_sessions(id)));

  // Through recovery: the snapshot, and nothing to replay.
  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.snapshot_zxid, big.tree.last_zxid());
  EXPECT_EQ(rec.last_zxid, big.tree.last_zxid());
  EXPECT_EQ(rec.txns_replayed, 0);
  EXPECT_TRUE(same_tree(big.tree, recovered));
  EXPECT_TRUE(same_sessions(want_sessions, rec.sessions));

  // The whole log replayed over an empty tree gives the same tree.
  close();
  raw_sql(
      path(),
      "DELETE FROM snapshot_chunk_refs; DELETE FROM chunk_store; DELETE FROM snapshot_sessions; "
      "DELETE FROM snapshots");
  open();
  DataTree replayed;
  rec = recover(*db, replayed);
  EXPECT_EQ(rec.snapshot_zxid, 0);
  EXPECT_EQ(rec.txns_replayed, static_cast<int64_t>(big.txns.size()));
  EXPECT_TRUE(same_tree(big.tree, replayed));
  EXPECT_TRUE(same_sessions(want_sessions, rec.sessions));
}

TEST_F(StorageTest, SnapshotNodesKeepPreorderAcrossChunks) {
  BigTree big;
  build_big_tree(big, 500, 2);
  Database& d = open();
  int64_t id = write_snapshot(d, big.tree, {}, /*chunk=*/7);
  std::vector<std::string> paths;
  d.read_snapshot(id, [&](SnapshotRow row) { paths.push_back(row.path); });
  EXPECT_EQ(paths, big.tree.paths());
  close();
  // Small chunks of the walk go into the rows as they come; the stored nodes are all there.
  EXPECT_EQ(raw_snapshot_node_count(path(), "snapshot_id = " + std::to_string(id)),
            static_cast<int64_t>(big.tree.node_count()));
}

// One add of more rows than a chunk holds stores several chunks of at most kSnapshotChunkBytes
// each (a row's share), read back in order.
TEST_F(StorageTest, ManyRowsAtOnceGoIntoSeveralChunks) {
  BigTree big;
  build_big_tree(big, 3000, 5);
  Database& d = open();
  int64_t id = write_snapshot(d, big.tree, {}, /*chunk=*/100000);
  std::vector<std::string> paths;
  d.read_snapshot(id, [&](SnapshotRow row) { paths.push_back(row.path); });
  EXPECT_EQ(paths, big.tree.paths());
  close();
  const std::string of = " FROM snapshot_chunk_refs WHERE snapshot_id = " + std::to_string(id);
  EXPECT_GE(raw_int(path(), "SELECT count(*)" + of), 3);
  EXPECT_LE(raw_int(path(), "SELECT max(length(nodes)) FROM chunk_store"),
            static_cast<int64_t>(kSnapshotChunkBytes));
  EXPECT_EQ(raw_int(path(), "SELECT count(*)" + of), raw_int(path(), "SELECT max(seq)" + of));
}

/// Opens the database holding snapshot `id` of `live` in an older layout, whose rows are in
/// `table`, and expects recovery to load it, then dropping it to leave nothing in `table`.
void StorageTest::expect_loads_then_goes(const DataTree& live, int64_t id,
                                         const std::string& table) {
  open();
  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.snapshot_zxid, db->snapshots().at(0).start_zxid);
  EXPECT_TRUE(same_tree(live, recovered));
  db->drop_snapshot(id);
  close();
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM " + table), 0);
}

// A database of a Corral from before chunks holds a snapshot as a row per node: it loads, and
// goes with its snapshot.
TEST_F(StorageTest, ASnapshotStoredANodeARowStillLoads) {
  Workload w(8, open());
  w.steps(120);
  int64_t id = write_snapshot(*db, w.live, w.session_rows());
  w.steps(40);
  close();
  const std::string of = " WHERE snapshot_id = " + std::to_string(id);
  std::vector<SnapshotRow> rows = raw_snapshot_rows(path(), "snapshot_id = " + std::to_string(id));
  ASSERT_GT(rows.size(), 10u);
  raw_sql(path(), "DELETE FROM snapshot_chunk_refs" + of);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string hex;
    for (unsigned char c : rows[i].record)
      hex += "0123456789ABCDEF"[c >> 4], hex += "0123456789ABCDEF"[c & 15];
    raw_sql(path(), "INSERT INTO snapshot_nodes VALUES (" + std::to_string(id) + ", " +
                        std::to_string(i + 1) + ", '" + rows[i].path + "', X'" + hex + "')");
  }
  expect_loads_then_goes(w.live, id, "snapshot_nodes");
}

// A database of a Corral from before chunk_store holds a snapshot's chunks in rows of its own:
// it loads, and they go with their snapshot.
TEST_F(StorageTest, ASnapshotStoredInChunksOfItsOwnStillLoads) {
  Workload w(9, open());
  w.steps(120);
  int64_t id = write_snapshot(*db, w.live, w.session_rows(), /*chunk=*/10);
  w.steps(40);
  close();
  ASSERT_GE(raw_int(path(), "SELECT count(*) FROM snapshot_chunk_refs"), 3);
  raw_sql(path(),
          "INSERT INTO snapshot_chunks SELECT snapshot_id, seq, (SELECT nodes FROM chunk_store "
          "WHERE id = chunk_id) FROM snapshot_chunk_refs; DELETE FROM snapshot_chunk_refs; "
          "DELETE FROM chunk_store");
  expect_loads_then_goes(w.live, id, "snapshot_chunks");
}

// A database marks the storage format it was written in: an older one is marked as of this
// build's when opened; one of a newer format is refused by name, not misread.
TEST_F(StorageTest, ADatabaseOfANewerFormatIsRefused) {
  open();
  close();
  EXPECT_EQ(raw_int(path(), "SELECT value FROM meta WHERE key = 'storage_format'"),
            Database::kStorageFormat);
  raw_sql(path(), "UPDATE meta SET value = 1 WHERE key = 'storage_format'");
  open();
  close();
  EXPECT_EQ(raw_int(path(), "SELECT value FROM meta WHERE key = 'storage_format'"),
            Database::kStorageFormat);
  raw_sql(path(), "UPDATE meta SET value = 99 WHERE key = 'storage_format'");
  try {
    open();
    FAIL() << "a database of storage format 99 was opened";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("written by a newer Corral (storage format 99"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(StorageTest, DropIncompleteSnapshots) {
  Workload w(3, open());
  w.steps(100);
  int64_t done = write_snapshot(*db, w.live, w.session_rows());
  w.steps(50);
  // A snapshot cut short (a crash while writing it).
  int64_t partial = db->begin_snapshot(w.live.last_zxid(), w.session_rows());
  SnapshotWalk walk;
  std::vector<SnapshotRow> rows;
  walk.next(w.live, 5, rows);
  db->add_snapshot_nodes(partial, rows);
  ASSERT_EQ(db->snapshots().size(), 1u);
  EXPECT_EQ(db->snapshots()[0].id, done);

  close();
  EXPECT_EQ(raw_snapshot_node_count(path(), "snapshot_id = " + std::to_string(partial)), 5);
  open();
  // Recovery ignores (and removes) it, using the complete one and the log.
  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.snapshot_zxid, db->snapshots()[0].start_zxid);
  EXPECT_TRUE(same_tree(w.live, recovered));
  EXPECT_TRUE(same_sessions(w.sessions, rec.sessions));
  close();
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots"), 1);
  EXPECT_EQ(raw_snapshot_node_count(path(), "snapshot_id = " + std::to_string(partial)), 0);
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshot_sessions WHERE snapshot_id = " +
                                std::to_string(partial)),
            0);

  // drop_incomplete_snapshots itself leaves complete snapshots alone.
  Database& d = open();
  int64_t again = d.begin_snapshot(w.live.last_zxid(), {});
  // Recovery writes nothing when the caller's check before its write refuses the file.
  DataTree refused;
  EXPECT_THROW(recover(d, refused, [] { throw StorageError("refused"); }), StorageError);
  ASSERT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots WHERE id = " + std::to_string(again)),
            1);
  d.drop_incomplete_snapshots();
  ASSERT_EQ(d.snapshots().size(), 1u);
  close();
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots WHERE id = " + std::to_string(again)),
            0);
}

TEST_F(StorageTest, PurgeKeepsNewestSnapshotsAndTheLogTheyNeed) {
  Workload w(4, open());
  for (int i = 0; i < 6; ++i) {
    w.steps(40);
    write_snapshot(*db, w.live, w.session_rows());
  }
  w.steps(30);
  auto all = db->snapshots();
  ASSERT_EQ(all.size(), 6u);
  int64_t first_before = db->first_logged_zxid();

  db->purge(0);  // nonsense: nothing happens
  db->purge(6);
  db->purge(10);
  EXPECT_EQ(db->snapshots().size(), 6u);
  EXPECT_EQ(db->first_logged_zxid(), first_before);

  db->purge(3);
  auto kept = db->snapshots();
  ASSERT_EQ(kept.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(kept[i].id, all[i].id);
  // Log rows at or below the oldest kept snapshot's start are gone; the rest stay.
  EXPECT_EQ(db->first_logged_zxid(), all[2].start_zxid + 1);
  EXPECT_EQ(db->last_logged_zxid(), w.live.last_zxid());
  close();
  for (size_t i = 3; i < 6; ++i) {
    std::string id = std::to_string(all[i].id);
    EXPECT_EQ(raw_snapshot_node_count(path(), "snapshot_id = " + id), 0);
    EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshot_sessions WHERE snapshot_id = " + id),
              0);
  }
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots"), 3);

  open();
  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.snapshot_zxid, all[0].start_zxid);
  EXPECT_TRUE(same_tree(w.live, recovered));
  EXPECT_TRUE(same_sessions(w.sessions, rec.sessions));

  // Down to one: the log from the newest snapshot on is still there.
  w.set_db(*db);
  w.steps(20);
  db->purge(1);
  ASSERT_EQ(db->snapshots().size(), 1u);
  EXPECT_EQ(db->first_logged_zxid(), all[0].start_zxid + 1);
  DataTree again;
  recover(*db, again);
  EXPECT_TRUE(same_tree(w.live, again));
}

// A purge that cannot delete a row changes nothing: SQLite ends only the failed statement, and
// a purge that went on would commit the rest (here a snapshot's nodes without the snapshot).
TEST_F(StorageTest, APurgeThatFailsChangesNothing) {
  Workload w(4, open());
  for (int i = 0; i < 4; ++i) {
    w.steps(30);
    write_snapshot(*db, w.live, w.session_rows());
  }
  const int64_t first = db->first_logged_zxid();
  const int64_t nodes = raw_snapshot_node_count(path());
  raw_sql(path(),
          "CREATE TRIGGER refuse BEFORE DELETE ON snapshots BEGIN SELECT RAISE(ABORT, 'no'); END");
  EXPECT_THROW(db->purge(1), StorageError);
  EXPECT_EQ(db->snapshots().size(), 4u);
  EXPECT_EQ(db->first_logged_zxid(), first);
  EXPECT_EQ(raw_snapshot_node_count(path()), nodes);
  // The connection is usable afterwards: no transaction was left open.
  raw_sql(path(), "DROP TRIGGER refuse");
  db->purge(1);
  EXPECT_EQ(db->snapshots().size(), 1u);
  DataTree recovered;
  recover(*db, recovered);
  EXPECT_TRUE(same_tree(w.live, recovered));
}

// Dropping the incomplete snapshots, when a delete fails, leaves no transaction open behind it.
TEST_F(StorageTest, ADropOfIncompleteSnapshotsThatFailsChangesNothing) {
  Workload w(4, open());
  w.steps(30);
  const int64_t partial = db->begin_snapshot(w.live.last_zxid(), {});
  raw_sql(path(),
          "CREATE TRIGGER refuse BEFORE DELETE ON snapshots BEGIN SELECT RAISE(ABORT, 'no'); END");
  EXPECT_THROW(db->drop_incomplete_snapshots(), StorageError);
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots WHERE id = " + std::to_string(partial)),
            1);
  raw_sql(path(), "DROP TRIGGER refuse");
  db->drop_incomplete_snapshots();
  EXPECT_EQ(raw_int(path(), "SELECT count(*) FROM snapshots WHERE id = " + std::to_string(partial)),
            0);
}

// Finishing a snapshot purges in the same transaction: a crash between the two can never
// leave more than `retain` complete snapshots (seen once in CI when they were two steps).
TEST_F(StorageTest, FinishingASnapshotPurgesInTheSameTransaction) {
  Workload w(4, open());
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    w.steps(30);
    ids.push_back(write_snapshot(*db, w.live, w.session_rows(), 2000, 3));
    EXPECT_EQ(db->snapshots().size(), std::min<size_t>(ids.size(), 3u));
  }
  auto kept = db->snapshots();
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].id, ids[4]);
  EXPECT_EQ(kept[2].id, ids[2]);
  EXPECT_EQ(db->first_logged_zxid(), kept[2].start_zxid + 1);
  DataTree recovered;
  recover(*db, recovered);
  EXPECT_TRUE(same_tree(w.live, recovered));
}

// The log a purge frees goes a batch a SQLite transaction: finishing the snapshot removes the
// first batch, purge_log_batch() the others (the Snapshotter queues them as storage jobs, so
// the txns logged meanwhile are written between two batches). Deleting 100,000 txns at once
// held every write behind it for up to 1.9 s.
TEST_F(StorageTest, APurgeFreesTheLogABatchAtATime) {
  Workload w(6, open());
  constexpr int64_t kBatch = Database::kLogPurgeBatch;
  w.steps(static_cast<int>(kBatch / 2));
  write_snapshot(*db, w.live, w.session_rows(), 2000, 2);
  w.steps(static_cast<int>(2 * kBatch));
  const int64_t logged = raw_int(path(), "SELECT count(*) FROM txn_log");
  write_snapshot(*db, w.live, w.session_rows(), 2000, 2);
  w.steps(static_cast<int>(kBatch / 2));
  write_snapshot(*db, w.live, w.session_rows(), 2000, 2);  // the first goes, and its log
  w.steps(3);
  auto kept = db->snapshots();
  ASSERT_EQ(kept.size(), 2u);
  const std::string upto = std::to_string(kept[1].start_zxid);  // the oldest kept
  ASSERT_EQ(raw_int(path(), "SELECT count(*) FROM txn_log WHERE zxid <= " + upto) + kBatch, logged)
      << "the snapshot's finish removed one batch";
  int batches = 0;
  while (batches < 100 && db->purge_log_batch()) ++batches;  // bounded: a broken one may loop
  EXPECT_EQ(batches, static_cast<int>((logged - kBatch - 1) / kBatch));
  EXPECT_EQ(db->first_logged_zxid(), kept[1].start_zxid + 1)
      << "all before the oldest kept snapshot goes, nothing after it";
  EXPECT_FALSE(db->purge_log_batch());
  EXPECT_EQ(db->first_logged_zxid(), kept[1].start_zxid + 1);
  DataTree recovered;
  recover(*db, recovered);
  EXPECT_TRUE(same_tree(w.live, recovered));
}

TEST_F(StorageTest, RecoverEmptyDatabase) {
  Database& d = open();
  DataTree recovered;
  Recovered rec = recover(d, recovered);
  EXPECT_EQ(rec.last_zxid, 0);
  EXPECT_EQ(rec.snapshot_zxid, 0);
  EXPECT_EQ(rec.txns_replayed, 0);
  EXPECT_TRUE(rec.sessions.empty());
  EXPECT_TRUE(same_tree(DataTree(), recovered));
}

TEST_F(StorageTest, RecoveredTreeKnowsItsLastZxidWithNothingAfterTheSnapshot) {
  Workload w(5, open());
  w.steps(60);
  write_snapshot(*db, w.live, w.session_rows());
  DataTree recovered;
  Recovered rec = recover(*db, recovered);
  EXPECT_EQ(rec.last_zxid, w.live.last_zxid());
  EXPECT_EQ(rec.txns_replayed, 0);
  // The server answers with the tree's last zxid and checks clients' lastZxidSeen against it.
  EXPECT_TRUE(same_tree(w.live, recovered));
}

// ---- fuzzy snapshots --------------------------------------------------------------------------

/// One run: random txns, a snapshot walked in small chunks while more txns are applied and
/// logged between chunks, more txns, then recovery into a fresh tree must equal the live one.
void fuzzy_run(uint32_t seed, const std::string& db_path) {
  std::filesystem::remove(db_path);
  Database db(db_path, /*force_sync=*/false);
  Workload w(seed, db, /*max_depth=*/3 + static_cast<int>(seed % 3));
  w.steps(w.pick(10, 150));

  int64_t start = w.live.last_zxid();
  int64_t id = db.begin_snapshot(start, w.session_rows());
  SnapshotWalk walk;
  int64_t count = 0;
  int busy = w.pick(0, 100);  // how often txns land between chunks
  while (!walk.done()) {
    std::vector<SnapshotRow> rows;
    walk.next(w.live, static_cast<size_t>(w.pick(1, 6)), rows);
    count += static_cast<int64_t>(rows.size());
    if (!rows.empty()) db.add_snapshot_nodes(id, rows);
    if (w.chance(busy)) w.steps(w.pick(1, 6));
  }
  int64_t end = w.live.last_zxid();
  db.finish_snapshot(id, end, count);
  w.steps(w.pick(0, 40));

  if (std::getenv("DEBUG_LOG")) {  // the log, to see what a failing seed did
    std::fprintf(stderr, "snapshot %s..%s\n", zxid_text(start).c_str(), zxid_text(end).c_str());
    db.read_log(0, [](Txn t) {
      std::fprintf(stderr, "%s type=%d session=0x%llx", zxid_text(t.zxid).c_str(),
                   static_cast<int>(t.type), static_cast<unsigned long long>(t.session_id));
      for (const auto& o : t.ops)
        std::fprintf(stderr, " [%d %s]", static_cast<int>(o.type), o.path.c_str());
      std::fprintf(stderr, "\n");
    });
  }
  DataTree recovered;
  Recovered rec = recover(db, recovered);
  ASSERT_EQ(rec.snapshot_zxid, start);
  ASSERT_EQ(rec.last_zxid, w.live.last_zxid());
  ASSERT_EQ(rec.txns_replayed, w.live.last_zxid() - start);
  ASSERT_TRUE(same_tree(w.live, recovered))
      << "fuzzy range " << zxid_text(start) << ".." << zxid_text(end);
  ASSERT_TRUE(same_sessions(w.sessions, rec.sessions));
}

TEST_F(StorageTest, FuzzySnapshotRecoversTheLiveTree) {
  // SEED=n runs one seed; SEEDS=n runs seeds 1..n (200 by default); DEBUG_LOG=1 prints the log.
  const char* only = std::getenv("SEED");
  const char* count = std::getenv("SEEDS");
  uint32_t first = only ? static_cast<uint32_t>(std::stoul(only)) : 1;
  uint32_t last = only ? first : count ? static_cast<uint32_t>(std::stoul(count)) : 200;
  int failures = 0;
  const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  for (uint32_t seed = first; seed <= last && failures < 5; ++seed) {
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed) + " (SEED=" + std::to_string(seed) +
                 " storage_test --gtest_filter=*FuzzySnapshot*)");
    int before = result->total_part_count();
    fuzzy_run(seed, path());
    if (result->total_part_count() != before) ++failures;
  }
}

// ---- recovery must refuse damaged data --------------------------------------------------------

class RecoveryErrorTest : public StorageTest {
 protected:
  // A log of 80 txns with a snapshot after the first 50 (fuzzy: txns between chunks).
  void SetUp() override {
    Workload w(6, open());
    w.steps(50);
    snapshot_start = w.live.last_zxid();
    int64_t id = db->begin_snapshot(snapshot_start, w.session_rows());
    SnapshotWalk walk;
    int64_t count = 0;
    while (!walk.done()) {
      std::vector<SnapshotRow> rows;
      walk.next(w.live, 3, rows);
      count += static_cast<int64_t>(rows.size());
      db->add_snapshot_nodes(id, rows);
      w.steps(1);
    }
    snapshot_end = w.live.last_zxid();
    db->finish_snapshot(id, snapshot_end, count);
    snapshot_id = id;
    w.steps(30);
    last = w.live.last_zxid();
    close();
  }

  /// The message recovery refuses with; empty (and a test failure) if it does not.
  std::string recovery_error() {
    try {
      Database& d = open();
      DataTree t;
      recover(d, t);
    } catch (const StorageError& e) {
      return e.what();
    }
    ADD_FAILURE() << "recovery accepted the damaged database";
    return "";
  }

  int64_t snapshot_start = 0;
  int64_t snapshot_end = 0;
  int64_t snapshot_id = 0;
  int64_t last = 0;
};

TEST_F(RecoveryErrorTest, UndamagedRecovers) {
  Database& d = open();
  DataTree t;
  EXPECT_EQ(recover(d, t).last_zxid, last);
}

TEST_F(RecoveryErrorTest, GapInTheLogAfterTheSnapshot) {
  int64_t missing = last - 10;
  raw_sql(path(), "DELETE FROM txn_log WHERE zxid = " + std::to_string(missing));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("gap"), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(missing - 1)), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(missing + 1)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, GapInTheLogWithoutSnapshot) {
  raw_sql(path(),
          "DELETE FROM snapshot_chunk_refs; DELETE FROM snapshots; DELETE FROM txn_log WHERE "
          "zxid = " +
              std::to_string(kEpoch1 + 20));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(kEpoch1 + 19)), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(kEpoch1 + 21)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, LogDoesNotReachTheSnapshot) {
  // As if the log after the snapshot's start had been purged.
  raw_sql(path(), "DELETE FROM txn_log WHERE zxid <= " + std::to_string(snapshot_start + 5));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_start)), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_start + 6)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, LogBeforeTheSnapshotMissingButAfterItGapped) {
  // Older rows remain, the first rows after the snapshot are gone.
  raw_sql(path(), "DELETE FROM txn_log WHERE zxid > " + std::to_string(snapshot_start) +
                      " AND zxid <= " + std::to_string(snapshot_start + 3));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_start)), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_start + 4)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, LogEndsInsideTheFuzzyRange) {
  // The snapshot holds effects of txns the log no longer has.
  ASSERT_GT(snapshot_end, snapshot_start + 1);
  raw_sql(path(), "DELETE FROM txn_log WHERE zxid > " + std::to_string(snapshot_start));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_end)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, LogStartsLateWithoutSnapshot) {
  raw_sql(path(),
          "DELETE FROM snapshot_chunk_refs; DELETE FROM snapshots; DELETE FROM txn_log WHERE "
          "zxid < " +
              std::to_string(kEpoch1 + 10));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(kEpoch1 + 10)), std::string::npos) << msg;
  EXPECT_NE(msg.find("no snapshot"), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, SnapshotNodeWithoutParent) {
  // Remove a non-leaf node's row: its children lose their parent.
  std::string victim;
  raw_edit_snapshot(path(), snapshot_id, [&](std::vector<SnapshotRow>& rows) {
    for (size_t i = 0; i + 1 < rows.size() && victim.empty(); ++i)
      if (rows[i].path != "/" && !rows[i].path.starts_with("/zookeeper") &&
          rows[i + 1].path.starts_with(rows[i].path + "/")) {
        victim = rows[i].path;
        rows.erase(rows.begin() + static_cast<ptrdiff_t>(i));
      }
  });
  ASSERT_FALSE(victim.empty());
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(victim + "/"), std::string::npos) << msg;
  EXPECT_NE(msg.find("parent"), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(snapshot_start)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, SnapshotMissingALeaf) {
  // The last row in preorder is a leaf.
  raw_edit_snapshot(path(), snapshot_id, [](std::vector<SnapshotRow>& rows) { rows.pop_back(); });
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("nodes"), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, CorruptSnapshotRecord) {
  raw_edit_snapshot(path(), snapshot_id, [](std::vector<SnapshotRow>& rows) {
    for (auto& row : rows)
      if (row.path == "/zookeeper") row.record = "\xff\xff\xff\xff";
  });
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("/zookeeper"), std::string::npos) << msg;
  EXPECT_NE(msg.find("decode"), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, CorruptTxnRecord) {
  int64_t victim = last - 3;
  raw_sql(path(), "UPDATE txn_log SET record = X'FFFFFFFF' WHERE zxid = " + std::to_string(victim));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(victim)), std::string::npos) << msg;
}

TEST_F(RecoveryErrorTest, TxnRecordOfAnotherZxid) {
  int64_t victim = last - 3;
  raw_sql(path(), "UPDATE txn_log SET record = (SELECT record FROM txn_log WHERE zxid = " +
                      std::to_string(victim - 1) + ") WHERE zxid = " + std::to_string(victim));
  std::string msg = recovery_error();
  EXPECT_NE(msg.find(path()), std::string::npos) << msg;
  EXPECT_NE(msg.find(zxid_text(victim)), std::string::npos) << msg;
}

TEST_F(StorageTest, NotADatabase) {
  {
    std::ofstream out(path());
    out << "this is not an SQLite database, just some text that is long enough to matter.\n";
    for (int i = 0; i < 200; ++i) out << "line " << i << "\n";
  }
  try {
    Database d(path(), true);
    FAIL() << "opened a file that is not a database";
  } catch (const StorageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path()), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a database"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace corral::storage
