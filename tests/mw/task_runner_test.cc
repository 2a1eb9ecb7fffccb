// task_runner.h: each kind's outcome, cancellation, and the hash pattern's digest.
#include "apps/master-worker/task_runner.h"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "apps/master-worker/layout.h"

namespace corral::mw {
namespace {

/// Runs one task to its end (or 10 s) and returns its outcome.
std::optional<TaskOutcome> run_one(const std::string& kind, const std::string& arg,
                                   bool allow_shell = false) {
  asio::io_context io;
  std::optional<TaskOutcome> out;
  TaskRunner runner(io.get_executor(), 2, allow_shell);
  auto task = runner.run(kind, arg, [&](TaskOutcome o) { out = std::move(o); });
  // Hashes and shells run on the pool: the io_context waits for their completion.
  auto work = asio::make_work_guard(io);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!out && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  return out;
}

TEST(TaskRunner, PatternDigest) {
  // sha256 of bytes 00 01 02 (i mod 256 for i < 3), as `printf '\x00\x01\x02' | sha256sum`.
  EXPECT_EQ(pattern_digest(3), "ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc");
  EXPECT_EQ(pattern_digest(3 << 20).size(), 64u);
  EXPECT_NE(pattern_digest(1 << 20), pattern_digest((1 << 20) + 1));
}

TEST(TaskRunner, Kinds) {
  auto slept = run_one("sleep", "5");
  ASSERT_TRUE(slept);
  EXPECT_TRUE(slept->ok);
  EXPECT_EQ(slept->result, "slept 5 ms");
  auto hashed = run_one("hash", "3");
  ASSERT_TRUE(hashed);
  EXPECT_TRUE(hashed->ok);
  EXPECT_EQ(hashed->result, pattern_digest(3));
  auto failed = run_one("fail", "");
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok);
  auto refused = run_one("shell", "echo hi");
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->ok);
  EXPECT_NE(refused->result.find("allow-shell"), std::string::npos) << refused->result;
  auto shell = run_one("shell", "echo hi", true);
  ASSERT_TRUE(shell);
  EXPECT_TRUE(shell->ok);
  EXPECT_EQ(shell->result, "hi\n");
  auto bad_exit = run_one("shell", "echo no; exit 3", true);
  ASSERT_TRUE(bad_exit);
  EXPECT_FALSE(bad_exit->ok);
  EXPECT_EQ(bad_exit->result, "exit status 3: no\n");
  auto big = run_one("shell", "head -c 100000 /dev/zero | tr '\\0' x", true);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->result.size(), kMaxResultBytes);
}

TEST(TaskRunner, CancelledTasksNeverComplete) {
  asio::io_context io;
  int completions = 0;
  TaskRunner runner(io.get_executor(), 2, true);
  auto sleep = runner.run("sleep", "60000", [&](TaskOutcome) { ++completions; });
  auto shell = runner.run("shell", "sleep 60", [&](TaskOutcome) { ++completions; });
  auto hash = runner.run("hash", "1000000000", [&](TaskOutcome) { ++completions; });
  io.run_for(std::chrono::milliseconds(300));
  sleep->cancel();
  shell->cancel();
  hash->cancel();
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(completions, 0);
  // ~TaskRunner joins its threads: the shell was killed and the hash abandoned, so promptly.
}

}  // namespace
}  // namespace corral::mw
