// corral-admin verify: checks a database as recovery would use it, and summarises it.
#include <cstdio>

#include "ensemble/admin_tool/commands.h"
#include "ensemble/admin_tool/scratch_dir.h"
#include "ensemble/storage/backup.h"
#include "ensemble/storage/database.h"
#include "ensemble/storage/tree_digest.h"
#include "ensemble/storage/verify.h"

namespace corral::admin {

int run_verify(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs("usage: corral-admin verify DATADIR|DB\n", stderr);
    return kUsage;
  }
  std::string path = storage::database_file(args[0]);
  ScratchDir scratch;
  if (scratch.path().empty()) {
    std::fputs("corral-admin verify: cannot make a temporary directory\n", stderr);
    return kProblem;
  }
  storage::VerifyReport r;
  try {
    r = storage::verify_database(path, scratch.path());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-admin verify: %s\n", e.what());
    return kProblem;
  }
  if (!r.problem.empty()) {
    std::printf("FAILED: %s\n", r.problem.c_str());
    return kProblem;
  }
  std::printf(
      "OK: %s\n  txn log: %lld txns, zxids %s..%s, no gaps\n  snapshots: %lld complete, all "
      "load, %lld with checksums, all match\n  recovery: last zxid %s, %lld nodes, %lld sessions, "
      "digest %s\n  epochs: "
      "accepted %lld, current %lld\n",
      path.c_str(), static_cast<long long>(r.txns), storage::zxid_text(r.first_zxid).c_str(),
      storage::zxid_text(r.last_logged).c_str(), static_cast<long long>(r.snapshots),
      static_cast<long long>(r.checksummed), storage::zxid_text(r.last_zxid).c_str(),
      static_cast<long long>(r.nodes), static_cast<long long>(r.sessions),
      storage::digest_text(r.digest).c_str(), static_cast<long long>(r.accepted_epoch),
      static_cast<long long>(r.current_epoch));
  return kOk;
}

}  // namespace corral::admin
