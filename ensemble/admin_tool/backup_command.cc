// corral-admin backup: SQLite's online backup of a server's database.
#include <cstdio>

#include "ensemble/admin_tool/commands.h"
#include "ensemble/storage/backup.h"
#include "ensemble/storage/database.h"

namespace corral::admin {
namespace {

// Fills `files` and `pacing` from the arguments; false (after saying why) if unusable.
bool parse_args(const std::vector<std::string>& args, std::vector<std::string>& files,
                storage::BackupPacing& pacing) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--pages" || args[i] == "--pause-ms") {
      const std::string& option = args[i];
      long v = option_value(args, i);
      if (v < (option == "--pages" ? 1 : 0)) {
        std::fprintf(stderr, "corral-admin backup: %s needs a number%s\n", option.c_str(),
                     option == "--pages" ? " above 0" : "");
        return false;
      }
      if (option == "--pages")
        pacing.pages_per_step = static_cast<int>(v);
      else
        pacing.pause = std::chrono::milliseconds(v);
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() == 2) return true;
  std::fputs("usage: corral-admin backup DATADIR|DB OUT.db [--pages N] [--pause-ms M]\n", stderr);
  return false;
}

}  // namespace

int run_backup(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  storage::BackupPacing pacing;
  if (!parse_args(args, files, pacing)) return kUsage;
  std::string source = storage::database_file(files[0]);
  try {
    storage::BackupResult r = storage::backup_database(source, files[1], pacing);
    std::printf("backed up %s to %s: %lld pages, %lld bytes, last zxid %s, %lld ms\n",
                source.c_str(), files[1].c_str(), static_cast<long long>(r.pages),
                static_cast<long long>(r.bytes), storage::zxid_text(r.last_zxid).c_str(),
                static_cast<long long>(r.elapsed.count()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-admin backup: %s\n", e.what());
    return kProblem;
  }
  return kOk;
}

}  // namespace corral::admin
