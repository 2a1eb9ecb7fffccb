#include "tests/e2e/port_claims.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace corral::e2e {

namespace {

std::string claims_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/corral-port-claims";
}

// Field 22 of /proc/PID/stat, the process's start time in clock ticks: with it a reused pid
// is not taken for the claim's owner. Empty if no such process.
std::string start_time(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return "";
  const auto after_name = stat.rfind(')');  // the name may hold spaces and parentheses
  if (after_name == std::string::npos) return "";
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return field;
}

bool owner_alive(const std::string& claim) {
  std::istringstream in(claim);
  long pid = 0;
  std::string started;
  if (!(in >> pid >> started) || pid <= 0) return false;
  return start_time(pid) == started;
}

// Holds an exclusive flock on the directory's lock file for its lifetime: the read, the check
// and the write of one claim happen as one step for every process.
class DirLock {
 public:
  explicit DirLock(const std::string& dir)
      : fd_(::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ >= 0) ::fchmod(fd_, 0666);  // every user's pickers share it (umask cut the mode)
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

bool claim_port(uint16_t port) {
  const std::string dir = claims_dir();
  ::mkdir(dir.c_str(), 01777);
  ::chmod(dir.c_str(), 01777);  // mkdir's mode is cut by the umask
  DirLock lock(dir);
  if (!lock.held()) return true;  // no shared directory: fall back to bindable() alone
  const std::string path = dir + "/" + std::to_string(port);
  std::ifstream old(path);
  std::string claim((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
  if (!claim.empty() && owner_alive(claim)) return false;
  const long self = ::getpid();
  const std::string claim_text = std::to_string(self) + " " + start_time(self) + "\n";
  // Writable by every user, so a later picker can take it over once this process is gone. A
  // claim that cannot be written leaves the port to bindable() alone, as before claims.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd >= 0) {
    ::fchmod(fd, 0666);
    const ssize_t written = ::write(fd, claim_text.data(), claim_text.size());
    (void)written;
    ::close(fd);
  }
  return true;
}

}  // namespace corral::e2e
