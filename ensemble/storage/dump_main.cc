// corral-dump DATADIR: prints the txn log and the snapshots of a Corral data
// directory, like ZooKeeper's TxnLogToolkit and SnapshotFormatter.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "ensemble/storage/database.h"
#include "ensemble/storage/snapshot_codec.h"

namespace {

using namespace corral;

std::string printable(std::string_view data, bool is_null) {
  if (is_null) return "null";
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < data.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += data.size() > kMax ? "\"..." : "\"";
  return out + " (" + std::to_string(data.size()) + " bytes)";
}

std::string acl_text(const wire::AclList& acl) {
  std::string out;
  for (const auto& a : acl) {
    if (!out.empty()) out += ",";
    out += a.id.scheme + ":" + a.id.id + ":" + std::to_string(a.perms);
  }
  return "[" + out + "]";
}

std::string op_name(wire::OpCode op) {
  switch (op) {
    case wire::OpCode::kCreate:
      return "create";
    case wire::OpCode::kCreate2:
      return "create2";
    case wire::OpCode::kCreateContainer:
      return "createContainer";
    case wire::OpCode::kCreateTtl:
      return "createTTL";
    case wire::OpCode::kDelete:
      return "delete";
    case wire::OpCode::kDeleteContainer:
      return "deleteContainer";
    case wire::OpCode::kSetData:
      return "setData";
    case wire::OpCode::kSetAcl:
      return "setACL";
    case wire::OpCode::kCheck:
      return "check";
    case wire::OpCode::kMulti:
      return "multi";
    case wire::OpCode::kCreateSession:
      return "createSession";
    case wire::OpCode::kCloseSession:
      return "closeSession";
    case wire::OpCode::kError:
      return "error";
    default:
      return "op" + std::to_string(static_cast<int>(op));
  }
}

void print_op(const tree::TxnOp& op, const char* indent) {
  std::printf("%s%s %s", indent, op_name(op.type).c_str(), op.path.c_str());
  if (op.type == wire::OpCode::kError)
    std::printf(" err=%s", std::string(wire::error_name(op.err)).c_str());
  if (op.type == wire::OpCode::kSetData || wire::is_create(op.type))
    std::printf(" data=%s", printable(op.data, op.data_null).c_str());
  if (!op.acl.empty()) std::printf(" acl=%s", acl_text(op.acl).c_str());
  if (op.ephemeral_owner) std::printf(" owner=0x%llx", (unsigned long long)op.ephemeral_owner);
  if (op.type == wire::OpCode::kSetData || op.type == wire::OpCode::kSetAcl)
    std::printf(" version=%d", op.version);
  std::printf("\n");
}

void print_txn(const tree::Txn& txn) {
  std::printf("%s session=0x%llx cxid=%d time=%lld %s", storage::zxid_text(txn.zxid).c_str(),
              (unsigned long long)txn.session_id, txn.cxid, (long long)txn.time_ms,
              op_name(txn.type).c_str());
  if (txn.type == wire::OpCode::kCreateSession) std::printf(" timeout=%d", txn.session_timeout_ms);
  if (txn.type == wire::OpCode::kError)
    std::printf(" err=%s", std::string(wire::error_name(txn.err)).c_str());
  std::printf("\n");
  // A multi lists its ops; a closeSession lists the ephemerals it removes.
  for (const auto& op : txn.ops) print_op(op, "    ");
}

void print_snapshot(storage::Database& db, const storage::SnapshotInfo& s) {
  std::printf("snapshot %lld: start zxid %s, end zxid %s, %lld nodes\n", (long long)s.id,
              storage::zxid_text(s.start_zxid).c_str(), storage::zxid_text(s.end_zxid).c_str(),
              (long long)s.node_count);
  for (const auto& session : db.snapshot_sessions(s.id))
    std::printf("  session 0x%llx timeout=%d\n", (unsigned long long)session.id,
                session.timeout_ms);
  tree::DataTree scratch;
  db.read_snapshot(s.id, [&](storage::SnapshotRow row) {
    tree::Node n;
    if (!storage::decode_node(row.record, scratch, n)) {
      std::printf("  %s <record does not decode>\n", row.path.c_str());
      return;
    }
    std::printf(
        "  %s czxid=%s mzxid=%s pzxid=%s version=%d cversion=%d aversion=%d owner=0x%llx "
        "acl=%s data=%s\n",
        row.path.c_str(), storage::zxid_text(n.czxid).c_str(), storage::zxid_text(n.mzxid).c_str(),
        storage::zxid_text(n.pzxid).c_str(), n.version, n.cversion, n.aversion,
        (unsigned long long)n.ephemeral_owner, acl_text(*n.acl).c_str(),
        printable(n.data, n.data_null).c_str());
  });
}

}  // namespace

int main(int argc, char** argv) {
  bool show_log = true, show_snapshots = true;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--log-only")
      show_snapshots = false;
    else if (a == "--snapshots-only")
      show_log = false;
    else if (dir.empty() && a[0] != '-')
      dir = a;
    else
      dir.clear(), i = argc;
  }
  if (dir.empty()) {
    std::fprintf(stderr,
                 "usage: corral-dump DATADIR [--log-only | --snapshots-only]\n"
                 "  DATADIR is the server's dataLogDir (or dataDir), holding corral.db\n");
    return 2;
  }
  std::string path = std::filesystem::is_directory(dir) ? dir + "/corral.db" : dir;
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "corral-dump: %s: no such file\n", path.c_str());
    return 1;
  }
  try {
    storage::Database db(path, false);
    std::printf("database %s\nacceptedEpoch=%lld currentEpoch=%lld\n", path.c_str(),
                (long long)db.meta("acceptedEpoch", 0), (long long)db.meta("currentEpoch", 0));
    if (show_snapshots)
      for (const auto& s : db.snapshots()) print_snapshot(db, s);
    if (show_log) {
      std::printf("txn log: zxids %s..%s\n", storage::zxid_text(db.first_logged_zxid()).c_str(),
                  storage::zxid_text(db.last_logged_zxid()).c_str());
      db.read_log(0, print_txn);
    }
  } catch (const storage::StorageError& e) {
    std::fprintf(stderr, "corral-dump: %s\n", e.what());
    return 1;
  }
  return 0;
}
