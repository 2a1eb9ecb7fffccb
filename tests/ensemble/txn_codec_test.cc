// The txn record as written and read by hand (ensemble/txn/txn_codec.cc): the bytes protobuf
// itself writes for txn.proto, and what protobuf reads from any bytes it accepts (fields out of
// order, repeated, unknown, of another wire type) read the same.
#include "ensemble/txn/txn_codec.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ensemble/txn/pb_wire.h"
#include "ensemble/txn/txn.pb.h"

namespace corral::txn {
namespace {

using tree::Txn;
using tree::TxnOp;
using wire::ErrorCode;
using wire::OpCode;

/// The record as the generated class writes it: what encode_txn replaced.
std::string protobuf_record(const Txn& txn) {
  pb::Txn p;
  p.set_session_id(txn.session_id);
  p.set_cxid(txn.cxid);
  p.set_zxid(txn.zxid);
  p.set_time_ms(txn.time_ms);
  p.set_type(static_cast<int32_t>(txn.type));
  p.set_session_timeout_ms(txn.session_timeout_ms);
  p.set_session_passwd(txn.session_passwd);
  p.set_err(static_cast<int32_t>(txn.err));
  for (const auto& op : txn.ops) {
    pb::TxnOp* o = p.add_ops();
    o->set_type(static_cast<int32_t>(op.type));
    o->set_path(op.path);
    o->set_data(op.data);
    o->set_data_null(op.data_null);
    for (const auto& a : op.acl) {
      pb::Acl* acl = o->add_acl();
      acl->set_perms(a.perms);
      acl->mutable_id()->set_scheme(a.id.scheme);
      acl->mutable_id()->set_id(a.id.id);
    }
    o->set_ephemeral_owner(op.ephemeral_owner);
    o->set_version(op.version);
    o->set_parent_cversion(op.parent_cversion);
    o->set_err(static_cast<int32_t>(op.err));
  }
  return p.SerializeAsString();
}

std::vector<Txn> sample_txns() {
  std::vector<Txn> out;
  Txn create;
  create.session_id = 0x1234567890abcdef;
  create.cxid = 7;
  create.zxid = int64_t{3} << 32 | 9;
  create.time_ms = 1'796'000'000'000;
  create.type = OpCode::kCreate;
  TxnOp op;
  op.type = OpCode::kCreate;
  op.path = "/app/node-0000000042";
  op.data = std::string(300, 'x');  // a length over one varint byte
  op.acl = {{wire::perms::kAll, {"world", "anyone"}}, {1, {"", ""}}, {31, {"digest", "u\xff:h"}}};
  op.ephemeral_owner = create.session_id;
  op.parent_cversion = 43;
  create.ops.push_back(op);
  out.push_back(create);

  Txn multi;
  multi.session_id = 5;
  multi.cxid = -1;  // negative values take ten bytes
  multi.zxid = int64_t{1} << 32 | 1;
  multi.type = OpCode::kMulti;
  TxnOp set;
  set.type = OpCode::kSetData;
  set.path = "/a";
  set.version = 2;
  multi.ops.push_back(set);
  TxnOp failed;
  failed.type = OpCode::kError;
  failed.err = ErrorCode::kNoNode;
  multi.ops.push_back(failed);
  TxnOp empty;
  empty.type = OpCode::kCreate;
  empty.path = "/b";
  empty.data_null = true;
  empty.ephemeral_owner = tree::kContainerOwner;
  multi.ops.push_back(empty);
  out.push_back(multi);

  Txn session;
  session.session_id = 99;
  session.zxid = 2;
  session.type = OpCode::kCreateSession;
  session.session_timeout_ms = 30000;
  session.session_passwd = std::string("\0\x01\xfe\xff", 4);
  out.push_back(session);

  Txn error;
  error.zxid = 3;
  error.type = OpCode::kError;
  error.err = ErrorCode::kBadVersion;
  out.push_back(error);
  out.push_back(Txn{});
  return out;
}

TEST(TxnCodec, ARecordIsTheBytesProtobufWrites) {
  for (const Txn& t : sample_txns()) EXPECT_EQ(encode_txn(t), protobuf_record(t));
}

TEST(TxnCodec, ACountedAppendFillsItsRoomExactlyOrStopsTheProcess) {
  std::string out = "<";
  pb_wire::append_counted(out, 3, [](auto& to) {
    to.put('a');
    to.put(std::string_view());  // nothing, whatever its data()
    to.put("bc");
  });
  EXPECT_EQ(out, "<abc");  // filled exactly: goes on
  EXPECT_DEATH(pb_wire::append_counted(out, 3, [](auto& to) { to.put('x'); }),
               "differ from the count");
}

TEST(TxnCodec, ProtobufsBytesReadBackAsTheTxn) {
  for (const Txn& t : sample_txns()) {
    const std::string bytes = protobuf_record(t);
    EXPECT_EQ(encode_txn(decode_txn(bytes)), bytes);
  }
}

/// What protobuf reads from `bytes` (as the generated class's decoder made a Txn of it),
/// written again by encode_txn; nullopt when protobuf refuses them.
std::optional<std::string> protobuf_reading(const std::string& bytes) {
  pb::Txn p;
  if (!p.ParseFromString(bytes)) return std::nullopt;
  Txn t;
  t.session_id = p.session_id();
  t.cxid = p.cxid();
  t.zxid = p.zxid();
  t.time_ms = p.time_ms();
  t.type = static_cast<OpCode>(p.type());
  t.session_timeout_ms = p.session_timeout_ms();
  t.session_passwd = p.session_passwd();
  t.err = static_cast<ErrorCode>(p.err());
  for (const auto& o : p.ops()) {
    TxnOp& op = t.ops.emplace_back();
    op.type = static_cast<OpCode>(o.type());
    op.path = o.path();
    op.data = o.data();
    op.data_null = o.data_null();
    for (const auto& a : o.acl()) op.acl.push_back({a.perms(), {a.id().scheme(), a.id().id()}});
    op.ephemeral_owner = o.ephemeral_owner();
    op.version = o.version();
    op.parent_cversion = o.parent_cversion();
    op.err = static_cast<ErrorCode>(o.err());
  }
  return encode_txn(t);
}

TEST(TxnCodec, FieldsInAnyOrderRepeatedOrUnknownReadAsProtobufReadsThem) {
  // zxid twice (the last wins), an unknown varint (field 15) and fixed64 (16), the type as a
  // length-delimited field (skipped: a wire type not its own), an op whose ACL's id comes in
  // two parts (merged), the op's fields backwards, an unknown group (field 20) holding a field.
  std::string acl = std::string("\x12\x04\x0a\x02", 4) + "ab" + "\x08\x1f" +
                    std::string("\x12\x04\x12\x02", 4) + "cd";
  std::string op =
      std::string("\x2a") + static_cast<char>(acl.size()) + acl + "\x12\x02/x" + "\x08\x05";
  std::string bytes = std::string("\x18\x05\x78\x01\x81\x01", 6) + std::string(8, '\x01') +
                      "\x2a\x01z" + "\x32" + static_cast<char>(op.size()) + op + "\x18\x07" +
                      "\xa3\x01\x08\x05\xa4\x01";
  auto expected = protobuf_reading(bytes);
  ASSERT_TRUE(expected.has_value()) << "protobuf refused the test's bytes";
  const Txn t = decode_txn(bytes);
  EXPECT_EQ(t.zxid, 7);
  ASSERT_EQ(t.ops.size(), 1u);
  ASSERT_EQ(t.ops[0].acl.size(), 1u);
  EXPECT_EQ(t.ops[0].acl[0].id.scheme, "ab");
  EXPECT_EQ(t.ops[0].acl[0].id.id, "cd");
  EXPECT_EQ(encode_txn(t), *expected);
}

TEST(TxnCodec, TagsAreReadAsProtobufReadsThem) {
  // A tag in five bytes whose last one overflows 32 bits: kept to 32 bits (field 1, varint).
  const std::string overflowing("\x88\x80\x80\x80\x10\x05", 6);
  ASSERT_TRUE(protobuf_reading(overflowing).has_value());
  EXPECT_EQ(decode_txn(overflowing).session_id, 5);
  EXPECT_EQ(encode_txn(decode_txn(overflowing)), *protobuf_reading(overflowing));
  // An op without its type is of type 0, as protobuf's default, not TxnOp's kError.
  const std::string untyped("\x32\x03\x12\x01/", 5);
  ASSERT_TRUE(protobuf_reading(untyped).has_value());
  EXPECT_EQ(static_cast<int>(decode_txn(untyped).ops.at(0).type), 0);
  EXPECT_EQ(static_cast<int>(decode_txn(std::string("\x18\x01", 2)).type), 0);
  // Refused by both: a tag of six bytes, a group ended by another field's end-group.
  for (const std::string& bad :
       {std::string("\x88\x80\x80\x80\x80\x00\x05", 7), std::string("\xa3\x01\xac\x01", 4)}) {
    EXPECT_FALSE(protobuf_reading(bad).has_value()) << testing::PrintToString(bad);
    EXPECT_THROW(decode_txn(bad), DecodeError) << testing::PrintToString(bad);
  }
}

TEST(TxnCodec, DamagedRecordsReadAsProtobufReadsThemOrAreRefused) {
  // Every record protobuf accepts after a random change reads the same here; whatever it
  // refuses, this decoder refuses or reads without crashing (it skips protobuf's UTF-8 check
  // of paths, which Corral never relied on).
  std::mt19937 rng(13);  // 200,000 changes a record with other seeds: the same
  int accepted = 0;
  for (const Txn& t : sample_txns()) {
    const std::string good = protobuf_record(t);
    if (good.empty()) continue;
    for (int i = 0; i < 3000; ++i) {
      std::string bytes = good;
      for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) {
        switch (rng() % 3) {
          case 0:
            bytes[rng() % bytes.size()] = static_cast<char>(rng());
            break;
          case 1:
            bytes.resize(rng() % (bytes.size() + 1));
            break;
          case 2:
            bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng()));
            break;
        }
        if (bytes.empty()) break;
      }
      auto expected = protobuf_reading(bytes);
      if (!expected) {
        try {
          (void)decode_txn(bytes);
        } catch (const DecodeError&) {
        }
        continue;
      }
      ++accepted;
      EXPECT_EQ(encode_txn(decode_txn(bytes)), *expected) << testing::PrintToString(bytes);
    }
  }
  EXPECT_GT(accepted, 500) << "too few changed records were still valid to compare";
}

TEST(TxnCodec, MalformedRecordsAreRefused) {
  for (const std::string& bad : {std::string("\xff\xff\xff", 3), std::string("\x32\x05\x08", 3),
                                 std::string("\x0b"), std::string(11, '\x80')})
    EXPECT_THROW(decode_txn(bad), DecodeError) << testing::PrintToString(bad);
}

}  // namespace
}  // namespace corral::txn
