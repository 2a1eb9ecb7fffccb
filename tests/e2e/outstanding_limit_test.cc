// globalOutstandingLimit and corral.connectionOutstandingLimit against real corral-server
// processes. Requests are outstanding while a write is in flight and while reads wait behind
// it, so a follower whose leader is paused (SIGSTOP) keeps them outstanding: clients of the
// follower pipeline creates and getData and the follower must stop reading them, at one
// connection's cap while it pipelines alone and near the global limit once several do, while
// an idle client is still answered. Once the leader resumes, every request is answered, in the
// order sent, and every create is applied. (Unread replies stop a connection earlier, at half
// of corral.connectionOutputLimitBytes: the Overload tests cover that.) ENSEMBLE_IMPL=zookeeper
// runs it against Apache ZooKeeper 3.8, which has no cap per connection and gives a follower
// globalOutstandingLimit / (quorum size - 1) (FollowerZooKeeperServer), here 15: there one
// connection alone stops past 15, and its reader thread races the count by a few requests.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"

namespace corral::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPairs = 100;  // create + getData pairs each client pipelines
constexpr int kConnectionLimit = 12;
constexpr int kGlobalLimit = 30;
constexpr int kPipeliners = 4;  // 4 x 12 > 30: the global limit binds once they all pipeline
constexpr int32_t kSequential = 2;

/// kPairs of (create /seq/n- sequential, getData /small), xids 1..2*kPairs, in one buffer.
std::string pipeline() {
  std::string bytes;
  for (int32_t i = 0; i < kPairs; ++i) {
    bytes += frame(request(2 * i + 1, kOpCreate, create_body("/seq/n-", "", kSequential)));
    bytes += frame(request(2 * i + 2, kOpGetData, path_watch_body("/small")));
  }
  return bytes;
}

/// mntr's zk_outstanding_requests, or -1 if mntr was not answered.
long outstanding(uint16_t port) {
  auto mntr = four_letter_word(port, "mntr");
  const std::string key = "zk_outstanding_requests\t";
  size_t at = mntr ? mntr->find(key) : std::string::npos;
  return at == std::string::npos ? -1 : std::stol(mntr->substr(at + key.size()));
}

/// The number of children of `path` (the Stat's numChildren), or -1 without an answer.
int children_of(RawClient& c, const std::string& path) {
  auto got = c.exists(path);
  return got && got->err == kOk ? get32(got->stat, 56) : -1;
}

/// Polls `what` until it is at least `at_least` or 5 s passed; its last value.
long wait_for_at_least(const std::function<long()>& what, long at_least) {
  const auto until = Clock::now() + std::chrono::seconds(5);
  long v = what();
  while (v < at_least && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    v = what();
  }
  return v;
}

TEST(OutstandingLimit, PipeliningClientsAreThrottledThenAnsweredInOrder) {
  const Impl impl = impl_from_env();
  Ensemble::Options o;
  o.impl = impl;
  o.name = "corral-outstanding";
  o.tick_ms = 1000;  // the follower gives its paused leader syncLimit (10 s)
  o.sync_limit = 10;
  o.extra_cfg = "forceSync=no\n4lw.commands.whitelist=*\nglobalOutstandingLimit=" +
                std::to_string(kGlobalLimit) +
                "\ncorral.connectionOutstandingLimit=" + std::to_string(kConnectionLimit) + "\n";
  Ensemble ensemble(o);
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all()) << ensemble.error() << ensemble.describe();
  const int leader = ensemble.leader();
  ASSERT_GE(leader, 0);
  const uint16_t port = ensemble.client_port((leader + 1) % ensemble.size());
  RawClient setup(port);
  ASSERT_TRUE(setup.handshake());
  ASSERT_EQ(setup.create("/seq", ""), kOk);
  ASSERT_EQ(setup.create("/small", "s"), kOk);
  // Sessions are writes too: every client has its own before the leader pauses.
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kPipeliners; ++i) {
    clients.push_back(std::make_unique<RawClient>(port, std::chrono::milliseconds(10000)));
    ASSERT_TRUE(clients.back()->handshake());
  }
  RawClient idle(port, std::chrono::milliseconds(2000));
  ASSERT_TRUE(idle.handshake());
  auto held = [&] { return outstanding(port); };
  ASSERT_TRUE(ensemble.pause(leader));
  const std::string bytes = pipeline();

  // One connection alone stops at its own cap, far below the global limit. ZooKeeper stops it
  // once the follower holds more than its share of the global limit.
  const bool corral = impl == Impl::kCorral;
  const long alone_min = corral ? kConnectionLimit : kGlobalLimit / 2 + 1;
  const long alone_max = corral ? kConnectionLimit : kGlobalLimit;
  ASSERT_TRUE(clients[0]->send(bytes));
  long alone = wait_for_at_least(held, alone_min);
  EXPECT_GE(alone, alone_min);
  EXPECT_LE(alone, alone_max);
  // Seen once against ZooKeeper in CI (c773279): a create applied although the leader was
  // paused. The members' modes and logs say, next time, whether the paused one still led.
  EXPECT_EQ(children_of(idle, "/seq"), 0) << ensemble.describe(30);
  alone = held();  // ZooKeeper's count may still rise by the requests its reader raced in
  EXPECT_LE(alone, alone_max) << "the connection was read past its cap";

  // More connections: the server as a whole stops near globalOutstandingLimit (a connection
  // with nothing outstanding is still read, so each may take one past it).
  for (int i = 1; i < kPipeliners; ++i) ASSERT_TRUE(clients[size_t(i)]->send(bytes));
  long at_limit = wait_for_at_least(held, corral ? kGlobalLimit : alone_min);
  EXPECT_GE(at_limit, corral ? kGlobalLimit : alone_min);
  EXPECT_LE(at_limit, kGlobalLimit + kPipeliners);

  // An idle client, with nothing outstanding, is still read and answered.
  auto small = idle.get_data("/small");
  ASSERT_TRUE(small) << "an idle client was not answered while the others were throttled";
  EXPECT_EQ(small->data, "s");
  EXPECT_LE(held(), kGlobalLimit + kPipeliners) << "the throttled connections were read on";
  std::cout << impl_name(impl) << ": outstanding with one pipelining connection " << alone
            << ", with " << kPipeliners << " " << at_limit << " (of " << kPipeliners * 2 * kPairs
            << " sent)\n";

  // The leader resumes: every request answered, in the order sent, none lost.
  ASSERT_TRUE(ensemble.resume(leader));
  for (size_t i = 0; i < clients.size(); ++i) {
    for (int32_t xid = 1; xid <= 2 * kPairs; ++xid) {
      auto reply = clients[i]->read_frame();
      ASSERT_TRUE(reply) << "client " << i << ": no reply to xid " << xid;
      ASSERT_EQ(get32(*reply, 0), xid) << "client " << i;
      ASSERT_EQ(get32(*reply, 12), kOk) << "client " << i << " xid " << xid;
    }
  }
  EXPECT_EQ(children_of(idle, "/seq"), kPipeliners * kPairs);
  EXPECT_EQ(held(), 0);
}

}  // namespace
}  // namespace corral::e2e
