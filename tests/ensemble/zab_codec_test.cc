// Round trips of the quorum port's frames, and rejection of malformed ones.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ensemble/txn/txn_codec.h"
#include "ensemble/zab/codec.h"

namespace corral::zab {
namespace {

tree::Txn sample_txn(int64_t zxid) {
  tree::Txn t;
  t.session_id = 0x1234;
  t.cxid = 7;
  t.zxid = zxid;
  t.time_ms = 1700000000000;
  t.type = wire::OpCode::kCreate;
  tree::TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = "/a";
  op.data = std::string("x\0y", 3);
  op.acl = {{wire::perms::kAll, {"world", "anyone"}}};
  op.parent_cversion = 3;
  t.ops.push_back(op);
  return t;
}

TEST(ZabCodec, NotificationRoundTrip) {
  for (bool abstaining : {false, true}) {
    Notification n{3, PeerState::kFollowing, Vote{2, 0x500000007, 5}, 9, abstaining};
    auto back = decode_frame(encode_frame(n));
    ASSERT_TRUE(back);
    const auto& got = std::get<Notification>(*back);
    EXPECT_EQ(got.from, 3);
    EXPECT_EQ(got.state, PeerState::kFollowing);
    EXPECT_EQ(got.vote, (Vote{2, 0x500000007, 5}));
    EXPECT_EQ(got.election_epoch, 9);
    EXPECT_EQ(got.abstaining, abstaining);  // the mark that has the others ignore it
  }
}

TEST(ZabCodec, SyncMessageWithTxnsAndSnapshotRoundTrip) {
  Message m;
  m.type = MessageType::kSync;
  m.from = 1;
  m.to = 2;
  m.epoch = 4;
  m.zxid = 0x400000002;
  m.observer = true;
  m.sync_mode = SyncMode::kSnap;
  m.trunc_zxid = 0x300000009;
  m.committed_zxid = 0x400000001;
  m.snapshot = std::make_shared<SnapshotData>(SnapshotData{0x400000000, std::string("\0\1\2", 3)});
  m.txns = {tree::share(sample_txn(0x400000001)), tree::share(sample_txn(0x400000002))};
  auto back = decode_frame(encode_frame(m));
  ASSERT_TRUE(back);
  const auto& got = std::get<Message>(*back);
  EXPECT_EQ(got.type, MessageType::kSync);
  EXPECT_EQ(got.from, 1);
  EXPECT_EQ(got.to, 2);
  EXPECT_EQ(got.epoch, 4);
  EXPECT_EQ(got.zxid, 0x400000002);
  EXPECT_TRUE(got.observer);
  EXPECT_EQ(got.sync_mode, SyncMode::kSnap);
  EXPECT_EQ(got.trunc_zxid, 0x300000009);
  EXPECT_EQ(got.committed_zxid, 0x400000001);
  ASSERT_TRUE(got.snapshot);
  EXPECT_EQ(got.snapshot->zxid, 0x400000000);
  EXPECT_EQ(got.snapshot->bytes, std::string("\0\1\2", 3));
  ASSERT_EQ(got.txns.size(), 2u);
  EXPECT_EQ(got.txns[1]->zxid, 0x400000002);
  ASSERT_EQ(got.txns[1]->ops.size(), 1u);
  EXPECT_EQ(got.txns[1]->ops[0].data, std::string("x\0y", 3));
  EXPECT_EQ(got.txns[1]->ops[0].acl, m.txns[1]->ops[0].acl);
  EXPECT_EQ(got.txns[1]->ops[0].parent_cversion, 3);
}

// A streamed SNAP's SYNC carries no bytes, and says so: its image came ahead in relays.
TEST(ZabCodec, StreamedSnapshotKeepsItsMark) {
  Message m;
  m.type = MessageType::kSync;
  m.sync_mode = SyncMode::kSnap;
  m.snapshot = std::make_shared<SnapshotData>(SnapshotData{0x400000000, {}, true});
  auto back = decode_frame(encode_frame(m));
  ASSERT_TRUE(back);
  const auto& got = std::get<Message>(*back);
  ASSERT_TRUE(got.snapshot);
  EXPECT_TRUE(got.snapshot->streamed);
  EXPECT_TRUE(got.snapshot->bytes.empty());
  EXPECT_EQ(got.snapshot->zxid, 0x400000000);
  m.snapshot = std::make_shared<SnapshotData>(SnapshotData{0x400000000, "image"});
  back = decode_frame(encode_frame(m));
  ASSERT_TRUE(back);
  EXPECT_FALSE(std::get<Message>(*back).snapshot->streamed);
}

// Dynamic reconfiguration's fields: the designated leader of a COMMIT/INFORM/UPTODATE, the
// config NEWLEADER and notifications carry, and FOLLOWERINFO's config version.
TEST(ZabCodec, ReconfigFieldsRoundTrip) {
  const std::string text = "server.1=127.0.0.1:2001:3001:participant\nversion=100000003";
  Message m;
  m.type = MessageType::kCommit;
  m.designated_leader = 4;
  m.config = text;
  m.config_version = 0x100000003;
  auto back = decode_frame(encode_frame(m));
  ASSERT_TRUE(back);
  const auto& got = std::get<Message>(*back);
  EXPECT_EQ(got.designated_leader, 4);
  EXPECT_EQ(got.config, text);
  EXPECT_EQ(got.config_version, 0x100000003);

  Notification n{3, PeerState::kLooking, Vote{3, 1, 1}, 2};
  n.config_version = 0x100000003;
  n.config = text;
  auto nback = decode_frame(encode_frame(n));
  ASSERT_TRUE(nback);
  EXPECT_EQ(std::get<Notification>(*nback).config_version, 0x100000003);
  EXPECT_EQ(std::get<Notification>(*nback).config, text);
}

// An older Corral's frames have none of those fields: they decode as "none" (0, empty), which
// the core reads as reconfig off (no designated leader, version 0, no config to adopt).
TEST(ZabCodec, FramesWithoutTheReconfigFieldsDecodeAsNone) {
  Message old;
  old.type = MessageType::kCommit;
  old.zxid = 0x100000001;
  Notification old_n{3, PeerState::kLooking, Vote{3, 1, 1}, 2};
  auto m = decode_frame(encode_frame(old));
  auto n = decode_frame(encode_frame(old_n));
  ASSERT_TRUE(m && n);
  EXPECT_EQ(std::get<Message>(*m).designated_leader, 0);
  EXPECT_EQ(std::get<Message>(*m).config, "");
  EXPECT_EQ(std::get<Message>(*m).config_version, 0);
  EXPECT_EQ(std::get<Notification>(*n).config_version, 0);
  EXPECT_EQ(std::get<Notification>(*n).config, "");
  // Proto3 leaves default fields out: such frames are byte for byte what an older Corral sends
  // and reads (its parser skips the new field numbers when they are set).
  Message with = old;
  with.designated_leader = 2;
  EXPECT_GT(encode_frame(with).size(), encode_frame(old).size());
}

TEST(ZabCodec, MessageWithoutSnapshotHasNone) {
  Message m;
  m.type = MessageType::kAck;
  m.zxid = 42;
  auto back = decode_frame(encode_frame(m));
  ASSERT_TRUE(back);
  EXPECT_FALSE(std::get<Message>(*back).snapshot);
  EXPECT_EQ(std::get<Message>(*back).zxid, 42);
}

TEST(ZabCodec, ALearnersTxnsKeepTheBytesTheyCameIn) {
  // What the learner logs (Txn::record): the txn log's encoding, as received.
  Message p;
  p.type = MessageType::kProposal;
  p.txns = {tree::share(sample_txn(0x400000001)), tree::share(sample_txn(0x400000002))};
  auto back = decode_frame(encode_frame(p));
  ASSERT_TRUE(back);
  const auto& txns = std::get<Message>(*back).txns;
  ASSERT_EQ(txns.size(), 2u);
  for (const auto& t : txns) {
    EXPECT_EQ(t->record, txn::encode_txn(sample_txn(t->zxid)));
    EXPECT_EQ(t->record, txn::encode_txn(*t));
  }
}

TEST(ZabCodec, ATxnsRecordIsSentAsItIs) {
  // A txn encoded once at propose is framed from its record, not encoded again: a record
  // standing for other fields (never so outside this test) shows which was sent.
  tree::Txn t = sample_txn(0x400000001);
  tree::Txn other = sample_txn(0x400000001);
  other.ops[0].path = "/other";
  t.record = txn::encode_txn(other);
  Message p;
  p.type = MessageType::kProposal;
  p.txns = {tree::share(t)};
  auto back = decode_frame(encode_frame(p));
  ASSERT_TRUE(back);
  ASSERT_EQ(std::get<Message>(*back).txns.size(), 1u);
  EXPECT_EQ(std::get<Message>(*back).txns[0]->ops.at(0).path, "/other");
}

TEST(ZabCodec, MalformedFramesAreRejected) {
  EXPECT_FALSE(decode_frame(""));                              // no body
  EXPECT_FALSE(decode_frame(std::string("\xff\xff\xff", 3)));  // not protobuf
  // A notification whose state is out of range: field 1 (notification) holding
  // field 2 (state) = 9, encoded by hand.
  std::string inner("\x10\x09", 2);
  std::string frame = std::string("\x0a", 1) + static_cast<char>(inner.size()) + inner;
  EXPECT_FALSE(decode_frame(frame));
  // A message carrying a txn record that does not decode: field 2 (message)
  // holding field 11 (txns) = bytes 0xff.
  std::string msg("\x5a\x01\xff", 3);
  std::string frame2 = std::string("\x12", 1) + static_cast<char>(msg.size()) + msg;
  EXPECT_FALSE(decode_frame(frame2));
}

/// A relay of `kind` with every field set to something other than its default.
Relay full_relay(RelayKind kind) {
  Relay r;
  r.kind = kind;
  r.from = 3;
  r.session_id = 0x0200000000000007;
  r.cxid = -12;
  r.type = static_cast<int32_t>(wire::OpCode::kMulti);
  r.body = std::string("\0\x01jute\xff", 7);
  r.auth = {{"ip", "10.0.0.1"}, {"digest", "bob:c2VjcmV0PT0="}, {"super", ""}};
  r.timeout_ms = 40000;
  r.passwd = std::string("\0pass\xfe\0", 7);
  r.sessions = {1, INT64_MAX, -5, 0x0100000000000001};
  r.id = INT64_MIN;
  r.zxid = 0x700000009;
  r.valid = true;
  return r;
}

TEST(ZabCodec, RelayRoundTripOfEveryKind) {
  for (RelayKind kind :
       {RelayKind::kRequest, RelayKind::kTouch, RelayKind::kSyncRequest, RelayKind::kSyncReply,
        RelayKind::kConfirm, RelayKind::kConfirmAck, RelayKind::kRevalidate,
        RelayKind::kRevalidateReply, RelayKind::kSnapshotChunk}) {
    SCOPED_TRACE("kind " + std::to_string(static_cast<int>(kind)));
    Relay r = full_relay(kind);
    auto back = decode_frame(encode_frame(r));
    ASSERT_TRUE(back);
    ASSERT_TRUE(std::holds_alternative<Relay>(*back));
    const auto& got = std::get<Relay>(*back);
    EXPECT_EQ(got.kind, kind);
    EXPECT_EQ(got.from, r.from);
    EXPECT_EQ(got.session_id, r.session_id);
    EXPECT_EQ(got.cxid, r.cxid);
    EXPECT_EQ(got.type, r.type);
    EXPECT_EQ(got.body, r.body);
    EXPECT_EQ(got.auth, r.auth);
    EXPECT_EQ(got.timeout_ms, r.timeout_ms);
    EXPECT_EQ(got.passwd, r.passwd);
    EXPECT_EQ(got.sessions, r.sessions);
    EXPECT_EQ(got.id, r.id);
    EXPECT_EQ(got.zxid, r.zxid);
    EXPECT_EQ(got.valid, r.valid);
  }
}

TEST(ZabCodec, RelayWithDefaultFieldsRoundTrips) {
  Relay r;  // a kTouch with no sessions: every field at its default
  auto back = decode_frame(encode_frame(r));
  ASSERT_TRUE(back);
  const auto& got = std::get<Relay>(*back);
  EXPECT_EQ(got.kind, RelayKind::kTouch);
  EXPECT_EQ(got.from, 0);
  EXPECT_EQ(got.session_id, 0);
  EXPECT_TRUE(got.body.empty());
  EXPECT_TRUE(got.auth.empty());
  EXPECT_TRUE(got.passwd.empty());
  EXPECT_TRUE(got.sessions.empty());
  EXPECT_EQ(got.id, 0);
  EXPECT_EQ(got.zxid, 0);
  EXPECT_FALSE(got.valid);
}

TEST(ZabCodec, RelayWithAnOutOfRangeKindIsRejected) {
  // One past the last kind, as the encoder writes it.
  Relay past = full_relay(RelayKind::kSnapshotChunk);
  past.kind = static_cast<RelayKind>(static_cast<int>(RelayKind::kSnapshotChunk) + 1);
  EXPECT_FALSE(decode_frame(encode_frame(past)));
  past.kind = static_cast<RelayKind>(255);
  EXPECT_FALSE(decode_frame(encode_frame(past)));
  // By hand: field 3 (relay) holding field 1 (kind) = 9, and = -1 (a ten-byte varint).
  auto relay_frame = [](const std::string& inner) {
    return std::string("\x1a", 1) + static_cast<char>(inner.size()) + inner;
  };
  EXPECT_TRUE(decode_frame(relay_frame(std::string("\x08\x08", 2))));  // kSnapshotChunk
  EXPECT_FALSE(decode_frame(relay_frame(std::string("\x08\x09", 2))));
  EXPECT_FALSE(
      decode_frame(relay_frame(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11))));
}

}  // namespace
}  // namespace corral::zab
