// corral-admin: operator tools for a Corral data directory and ensemble: online backup,
// restore, offline verification, and a comparison of the members' trees.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/admin_tool/commands.h"

namespace {

constexpr const char* kHelp =
    "usage: corral-admin COMMAND ARGS\n"
    "  backup DATADIR|DB OUT.db [--pages N] [--pause-ms M]\n"
    "      a consistent copy of a server's database, also while it runs and writes\n"
    "  restore BACKUP.db DATADIR [--force]\n"
    "      verifies the backup and writes it as DATADIR/corral.db (the server stopped);\n"
    "      refuses a DATADIR holding anything but myid unless --force\n"
    "  verify DATADIR|DB\n"
    "      log continuity, every snapshot, and recovery; exit 0 with a summary, 1 and the\n"
    "      first problem\n"
    "  digest HOST:PORT,... [--timeout-ms N]\n"
    "      compares the members' trees at a common zxid (4lw dgst, whitelisted); exit 0 if\n"
    "      they agree, 1 if they differ, 3 if no common zxid was seen in time\n"
    "DATADIR is the server's dataLogDir (its dataDir when that is not set).\n";

}  // namespace

namespace corral::admin {

long option_value(const std::vector<std::string>& args, size_t& i) {
  if (i + 1 >= args.size()) return -1;
  const std::string& text = args[++i];
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  return text.empty() || *end != '\0' || v < 0 ? -1 : v;
}

}  // namespace corral::admin

int main(int argc, char** argv) {
  using namespace corral::admin;
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return kUsage;
  }
  std::string_view command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "backup") return run_backup(args);
  if (command == "restore") return run_restore(args);
  if (command == "verify") return run_verify(args);
  if (command == "digest") return run_digest(args);
  if (command == "--help" || command == "help") {
    std::fputs(kHelp, stdout);
    return kOk;
  }
  std::fprintf(stderr, "corral-admin: unknown command '%s'\n%s", argv[1], kHelp);
  return kUsage;
}
