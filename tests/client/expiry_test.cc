// Session expiry: a client that goes silent for longer than its session timeout (its
// io_context stops running, as a process stopped or swapped out would) finds, once it runs
// again, that the ensemble expired its session: it reports kLost, its ephemeral node is gone
// for everyone, and every later call fails with ZSESSIONEXPIRED.
#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

TEST(Expiry, FrozenClientFindsItsSessionExpired) {
  EventLog log;
  TestClient a({.timeout = 2000ms});
  TestClient b;
  ASSERT_TRUE(a.connected() && b.connected());
  EXPECT_EQ(a->session_timeout(), 2000ms);
  const int64_t sid = a->session_id();
  std::string root = test_root(*b);
  std::string eph = root + "/eph";
  ASSERT_TRUE(await(a->sync(root, use_future)).ok());  // root is b's: maybe not on a's server yet
  ASSERT_TRUE(await(a->create(eph, "", {CreateMode::kEphemeral}, use_future)).ok());
  ASSERT_TRUE(await(a->get(root, log.watcher(), use_future)).ok());
  // b may read another server, which may not have applied the create yet: without the sync, b
  // saw no node at once and took that for the expiry.
  ASSERT_TRUE(await(b->sync(eph, use_future)).ok());
  ASSERT_TRUE(await(b->exists(eph, nullptr, use_future)).ok());

  size_t mark = a.state_count();
  a.freeze();
  auto frozen_at = Clock::now();
  bool expired = wait_until(
      30s, [&] { return await(b->exists(eph, nullptr, use_future)).error() == ErrorCode::kNoNode; },
      50ms);
  ASSERT_TRUE(expired) << "the frozen client's ephemeral node is still there after 30 s";
  std::printf("session 0x%llx (2000 ms) expired %.0f ms after its client froze\n",
              static_cast<unsigned long long>(sid), ms_since(frozen_at));
  EXPECT_GE(ms_since(frozen_at), 1500);  // not before (about) its timeout
  ASSERT_TRUE(await(b->set(root, "changed", -1, use_future)).ok());

  // Asked while frozen: it runs once the client does.
  auto asked_while_frozen = a->get(root, nullptr, use_future);
  auto thawed_at = Clock::now();
  a.thaw();
  ASSERT_TRUE(a.wait_state(ConnectionState::kLost, 15s, mark)) << "states " << describe(a.states());
  std::printf("client reported the loss %.0f ms after running again; states %s\n",
              ms_since(thawed_at), describe(a.states()).c_str());
  EXPECT_EQ(a->state(), ConnectionState::kLost);
  auto after = a.states();
  EXPECT_EQ(after.back(), ConnectionState::kLost) << describe(after);
  for (size_t i = mark; i < after.size(); ++i)
    EXPECT_TRUE(after[i] == ConnectionState::kSuspended || after[i] == ConnectionState::kLost)
        << describe(after);

  auto frozen = await(std::move(asked_while_frozen));
  EXPECT_TRUE(frozen.error() == ErrorCode::kConnectionLoss ||
              frozen.error() == ErrorCode::kSessionExpired)
      << text(frozen.error());

  // Everything afterwards: ZSESSIONEXPIRED.
  EXPECT_EQ(await(a->get(root, nullptr, use_future)).error(), ErrorCode::kSessionExpired);
  EXPECT_EQ(await(a->exists(eph, nullptr, use_future)).error(), ErrorCode::kSessionExpired);
  EXPECT_EQ(await(a->create(root + "/x", "", {}, use_future)).error(), ErrorCode::kSessionExpired);
  EXPECT_EQ(await(a->set(root, "x", -1, use_future)).error(), ErrorCode::kSessionExpired);
  EXPECT_EQ(await(a->multi(Multi().check(root, -1), use_future)).error(),
            ErrorCode::kSessionExpired);
  EXPECT_EQ(await(a->add_auth("digest", "a:b", use_future)).error(), ErrorCode::kSessionExpired);
  EXPECT_EQ(text(await(a->sync(root, use_future)).error()), "ZSESSIONEXPIRED");
  // The ephemeral is gone for good, and the session's watch did not outlive it.
  EXPECT_EQ(await(b->exists(eph, nullptr, use_future)).error(), ErrorCode::kNoNode);
  EXPECT_EQ(log.count(), 0u) << describe(log.events());
  // Closing a lost session is harmless; the state stays kLost.
  EXPECT_TRUE(await(a->close(use_future)).ok());
  EXPECT_EQ(a->state(), ConnectionState::kLost);
}

}  // namespace
}  // namespace corral::client::test
