// Port claims across processes: a live owner keeps its port, a gone one (or a reused pid with
// another start time) loses it, and scripts/port_claims.py and this side honour each other's
// claims.
#include "tests/e2e/port_claims.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

class PortClaims : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tmp = std::getenv("TMPDIR")) old_tmpdir_ = tmp;
    dir_ = fs::temp_directory_path() / ("port-claims-test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ::setenv("TMPDIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (old_tmpdir_)
      ::setenv("TMPDIR", old_tmpdir_->c_str(), 1);
    else
      ::unsetenv("TMPDIR");
    fs::remove_all(dir_);
  }
  fs::path claim_file(uint16_t port) const {
    return dir_ / "corral-port-claims" / std::to_string(port);
  }
  void write_claim(uint16_t port, const std::string& text) const {
    fs::create_directories(claim_file(port).parent_path());
    std::ofstream(claim_file(port)) << text;
  }
  fs::path dir_;
  std::optional<std::string> old_tmpdir_;
};

TEST_F(PortClaims, AClaimedPortIsNotHandedOutAgain) {
  ASSERT_TRUE(claim_port(20001));
  EXPECT_FALSE(claim_port(20001)) << "this process is alive and holds it";
  EXPECT_TRUE(claim_port(20002));
}

TEST_F(PortClaims, AGoneOwnersClaimIsTakenOver) {
  const pid_t child = ::fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // reaped: no such process now
  write_claim(20003, std::to_string(child) + " 12345\n");
  EXPECT_TRUE(claim_port(20003));
  std::ifstream in(claim_file(20003));
  long owner = 0;
  in >> owner;
  EXPECT_EQ(owner, ::getpid());
}

TEST_F(PortClaims, AReusedPidWithAnotherStartTimeDoesNotHoldTheClaim) {
  write_claim(20004, std::to_string(::getpid()) + " 1\n");  // our pid, not our start time
  EXPECT_TRUE(claim_port(20004));
}

TEST_F(PortClaims, ALiveProcessHoldsItsClaimAgainstAnother) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(30);  // gone even if the test stops before it kills this process
    ::pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  // The child claims through the Python side, so both speak one protocol.
  const std::string cmd = "python3 " CORRAL_SOURCE_DIR "/scripts/port_claims.py pick 3 --owner " +
                          std::to_string(child) + " > " + (dir_ / "picked").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream picked(dir_ / "picked");
  int count = 0;
  for (int port; picked >> port; ++count) EXPECT_FALSE(claim_port(port)) << port;
  EXPECT_EQ(count, 3);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::ifstream again(dir_ / "picked");
  for (int port; again >> port;) EXPECT_TRUE(claim_port(port)) << port << ": its owner is gone";
}

TEST_F(PortClaims, ThePythonSideHonoursAClaimOfThisProcess) {
  ASSERT_TRUE(claim_port(20005));
  // Exit status 3 if Python takes the port anyway, 0 if it leaves it to this live process.
  const std::string cmd = "python3 -c 'import os, sys; sys.path.insert(0, \"" CORRAL_SOURCE_DIR
                          "/scripts\"); import port_claims; "
                          "sys.exit(3 if port_claims.claim(20005, os.getpid()) else 0)'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace corral::e2e
