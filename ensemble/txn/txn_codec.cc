#include "ensemble/txn/txn_codec.h"

#include <string_view>

#include "ensemble/txn/pb_wire.h"

namespace corral::txn {
namespace {

// txn.proto's field numbers, which the bytes below follow (byte for byte what protobuf writes
// for the same message: TxnCodec.ARecordIsTheBytesProtobufWrites).
namespace id_field {
constexpr int kScheme = 1, kId = 2;
}
namespace acl_field {
constexpr int kPerms = 1, kId = 2;
}
namespace op_field {
constexpr int kType = 1, kPath = 2, kData = 3, kDataNull = 4, kAcl = 5, kEphemeralOwner = 6,
              kVersion = 7, kParentCversion = 8, kErr = 9;
}
namespace txn_field {
constexpr int kSessionId = 1, kCxid = 2, kZxid = 3, kTimeMs = 4, kType = 5, kOps = 6,
              kSessionTimeoutMs = 7, kSessionPasswd = 8, kErr = 9;
}

/// An embedded message field: its length (counted by writing it once to a SizeCounter), then
/// its bytes.
template <class Out, class Write>
void message_field(Out& out, int field, Write write) {
  pb_wire::SizeCounter size;
  write(size);
  pb_wire::key(out, field, pb_wire::kLengthDelimited);
  pb_wire::varint(out, size.size);
  write(out);
}

template <class Out>
void write_acl(Out& out, const wire::Acl& a) {
  pb_wire::int_field(out, acl_field::kPerms, a.perms);
  // Always there, empty or not, as the generated code set it.
  message_field(out, acl_field::kId, [&](auto& o) {
    pb_wire::string_field(o, id_field::kScheme, a.id.scheme);
    pb_wire::string_field(o, id_field::kId, a.id.id);
  });
}

template <class Out>
void write_op(Out& out, const tree::TxnOp& op) {
  pb_wire::int_field(out, op_field::kType, static_cast<int32_t>(op.type));
  pb_wire::string_field(out, op_field::kPath, op.path);
  pb_wire::string_field(out, op_field::kData, op.data);
  pb_wire::int_field(out, op_field::kDataNull, op.data_null);
  for (const auto& a : op.acl)
    message_field(out, op_field::kAcl, [&](auto& o) { write_acl(o, a); });
  pb_wire::int_field(out, op_field::kEphemeralOwner, op.ephemeral_owner);
  pb_wire::int_field(out, op_field::kVersion, op.version);
  pb_wire::int_field(out, op_field::kParentCversion, op.parent_cversion);
  pb_wire::int_field(out, op_field::kErr, static_cast<int32_t>(op.err));
}

template <class Out>
void write_txn(Out& out, const tree::Txn& txn) {
  pb_wire::int_field(out, txn_field::kSessionId, txn.session_id);
  pb_wire::int_field(out, txn_field::kCxid, txn.cxid);
  pb_wire::int_field(out, txn_field::kZxid, txn.zxid);
  pb_wire::int_field(out, txn_field::kTimeMs, txn.time_ms);
  pb_wire::int_field(out, txn_field::kType, static_cast<int32_t>(txn.type));
  for (const auto& op : txn.ops)
    message_field(out, txn_field::kOps, [&](auto& o) { write_op(o, op); });
  pb_wire::int_field(out, txn_field::kSessionTimeoutMs, txn.session_timeout_ms);
  pb_wire::string_field(out, txn_field::kSessionPasswd, txn.session_passwd);
  pb_wire::int_field(out, txn_field::kErr, static_cast<int32_t>(txn.err));
}

// The readers take fields in any order and skip those they do not know (a newer Corral's),
// as protobuf does; a field of a known number but another wire type is skipped too (protobuf
// keeps it as unknown). A repeated scalar takes its last value; an embedded message given
// twice merges (the Acl's id). Unlike protobuf, a path need not be UTF-8 (a proto3 string):
// requests' paths are checked where they come in, and recovery checks every logged one.

/// Reads the fields of `bytes`, calling `field(reader, number)` for each varint field and
/// `payload(number, bytes)` for each length-delimited one; false when malformed.
template <class Varint, class Payload>
bool read_fields(std::string_view bytes, Varint varint, Payload payload) {
  pb_wire::Reader r(bytes);
  while (!r.done()) {
    int field, wire_type;
    if (!r.key(field, wire_type)) return false;
    if (wire_type == pb_wire::kVarint) {
      uint64_t v;
      if (!r.varint(v)) return false;
      varint(field, v);
    } else if (wire_type == pb_wire::kLengthDelimited) {
      std::string_view p;
      if (!r.bytes(p) || !payload(field, p)) return false;
    } else if (!r.skip(field, wire_type)) {
      return false;
    }
  }
  return true;
}

bool read_id(std::string_view bytes, wire::Id& id) {
  return read_fields(
      bytes, [](int, uint64_t) {},
      [&](int field, std::string_view p) {
        if (field == id_field::kScheme) id.scheme.assign(p);
        if (field == id_field::kId) id.id.assign(p);
        return true;
      });
}

bool read_acl(std::string_view bytes, wire::Acl& acl) {
  return read_fields(
      bytes,
      [&](int field, uint64_t v) {
        if (field == acl_field::kPerms) acl.perms = static_cast<int32_t>(v);
      },
      [&](int field, std::string_view p) { return field != acl_field::kId || read_id(p, acl.id); });
}

bool read_op(std::string_view bytes, tree::TxnOp& op) {
  return read_fields(
      bytes,
      [&](int field, uint64_t v) {
        switch (field) {
          case op_field::kType:
            op.type = static_cast<wire::OpCode>(static_cast<int32_t>(v));
            break;
          case op_field::kDataNull:
            op.data_null = v != 0;
            break;
          case op_field::kEphemeralOwner:
            op.ephemeral_owner = static_cast<int64_t>(v);
            break;
          case op_field::kVersion:
            op.version = static_cast<int32_t>(v);
            break;
          case op_field::kParentCversion:
            op.parent_cversion = static_cast<int32_t>(v);
            break;
          case op_field::kErr:
            op.err = static_cast<wire::ErrorCode>(static_cast<int32_t>(v));
            break;
        }
      },
      [&](int field, std::string_view p) {
        if (field == op_field::kPath) op.path.assign(p);
        if (field == op_field::kData) op.data.assign(p);
        return field != op_field::kAcl || read_acl(p, op.acl.emplace_back());
      });
}

bool read_txn(std::string_view bytes, tree::Txn& txn) {
  return read_fields(
      bytes,
      [&](int field, uint64_t v) {
        switch (field) {
          case txn_field::kSessionId:
            txn.session_id = static_cast<int64_t>(v);
            break;
          case txn_field::kCxid:
            txn.cxid = static_cast<int32_t>(v);
            break;
          case txn_field::kZxid:
            txn.zxid = static_cast<int64_t>(v);
            break;
          case txn_field::kTimeMs:
            txn.time_ms = static_cast<int64_t>(v);
            break;
          case txn_field::kType:
            txn.type = static_cast<wire::OpCode>(static_cast<int32_t>(v));
            break;
          case txn_field::kSessionTimeoutMs:
            txn.session_timeout_ms = static_cast<int32_t>(v);
            break;
          case txn_field::kErr:
            txn.err = static_cast<wire::ErrorCode>(static_cast<int32_t>(v));
            break;
        }
      },
      [&](int field, std::string_view p) {
        if (field == txn_field::kSessionPasswd) txn.session_passwd.assign(p);
        if (field != txn_field::kOps) return true;
        // A second op makes it a multi: room for a few more at once, where growing one at a
        // time moved every op parsed so far each time (1.1% of a follower's time under multi).
        if (txn.ops.size() == 1) txn.ops.reserve(8);
        tree::TxnOp& op = txn.ops.emplace_back();
        op.type = {};  // a field left out is 0, not TxnOp's default
        return read_op(p, op);
      });
}

}  // namespace

std::string encode_txn(const tree::Txn& txn) {
  pb_wire::SizeCounter size;
  write_txn(size, txn);
  std::string out;
  pb_wire::append_counted(out, size.size, [&](auto& to) { write_txn(to, txn); });
  return out;
}

const std::string& record_of(const tree::Txn& txn, std::string& scratch) {
  if (!txn.record.empty()) return txn.record;
  scratch = encode_txn(txn);
  return scratch;
}

tree::Txn decode_txn(std::string_view bytes) {
  tree::Txn txn;
  txn.type = {};  // a field left out is 0, not Txn's default
  if (!read_txn(bytes, txn)) throw DecodeError("malformed txn record");
  return txn;
}

}  // namespace corral::txn
