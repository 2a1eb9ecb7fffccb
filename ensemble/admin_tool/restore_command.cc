// corral-admin restore: a verified backup becomes a stopped server's database.
#include <cstdio>
#include <filesystem>

#include "ensemble/admin_tool/commands.h"
#include "ensemble/admin_tool/scratch_dir.h"
#include "ensemble/storage/backup.h"
#include "ensemble/storage/database.h"
#include "ensemble/storage/verify.h"

namespace corral::admin {
namespace {

// The first entry of `dir` other than myid (which a member keeps across a restore), or "".
std::string first_foreign_entry(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().filename() != "myid") return entry.path().filename().string();
  return {};
}

}  // namespace

int run_restore(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  bool force = false;
  for (const auto& a : args) {
    if (a == "--force")
      force = true;
    else
      files.push_back(a);
  }
  if (files.size() != 2) {
    std::fputs("usage: corral-admin restore BACKUP.db DATADIR [--force]\n", stderr);
    return kUsage;
  }
  const std::string& backup = files[0];
  const std::string& dir = files[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (std::string entry = first_foreign_entry(dir); !entry.empty() && !force) {
    std::fprintf(stderr,
                 "corral-admin restore: %s is not empty (it holds %s); stop its server and "
                 "add --force to replace its database\n",
                 dir.c_str(), entry.c_str());
    return kProblem;
  }
  ScratchDir scratch;
  try {
    // A damaged backup would only be found when the server refuses to start on it.
    storage::VerifyReport report = storage::verify_database(backup, scratch.path());
    if (!report.problem.empty()) {
      std::fprintf(stderr, "corral-admin restore: the backup does not verify: %s\n",
                   report.problem.c_str());
      return kProblem;
    }
    std::string target = dir + "/corral.db";
    storage::backup_database(backup, target);
    std::printf("restored %s to %s: last zxid %s, %lld nodes\n", backup.c_str(), target.c_str(),
                storage::zxid_text(report.last_zxid).c_str(), static_cast<long long>(report.nodes));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-admin restore: %s\n", e.what());
    return kProblem;
  }
  return kOk;
}

}  // namespace corral::admin
