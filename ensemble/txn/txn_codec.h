// Txns as bytes (the Protocol Buffers record of txn.proto, written and read by hand with
// pb_wire.h): the txn log (ensemble/storage) and the quorum protocol (ensemble/zab) both store
// and carry txns this way, so neither depends on the other for it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "ensemble/tree/txn.h"

namespace corral::txn {

/// A txn record that does not decode.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Encodes a Txn as its record.
std::string encode_txn(const tree::Txn& txn);
/// The txn's encoding: its record (tree::Txn::record) when it has one, else encode_txn(txn)
/// made into `scratch`. The reference is valid while both are.
const std::string& record_of(const tree::Txn& txn, std::string& scratch);
/// Decodes a Txn record; throws DecodeError on a malformed record.
tree::Txn decode_txn(std::string_view bytes);

}  // namespace corral::txn
