// corral-admin backup: SQLite's online backup of a server's database.
#include <cstdio>

#include "ensemble/admin_tool/commands.h"
#include "ensemble/storage/backup.h"
#include "ensemble/storage/database.h"

namespace corral::admin {

long option_value(const std::vector<std::string>& args, size_t& i) {
  if (i + 1 >= args.size()) return -1;
  const std::string& text = args[++i];
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  return text.empty() || *end != '\0' || v < 0 ? -1 : v;
}

int run_backup(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  storage::BackupPacing pacing;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--pages") {
      long v = option_value(args, i);
      if (v < 1)
        return std::fputs("corral-admin backup: --pages needs a positive number\n", stderr), kUsage;
      pacing.pages_per_step = static_cast<int>(v);
    } else if (args[i] == "--pause-ms") {
      long v = option_value(args, i);
      if (v < 0)
        return std::fputs("corral-admin backup: --pause-ms needs a number\n", stderr), kUsage;
      pacing.pause = std::chrono::milliseconds(v);
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() != 2) {
    std::fputs("usage: corral-admin backup DATADIR|DB OUT.db [--pages N] [--pause-ms M]\n", stderr);
    return kUsage;
  }
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
