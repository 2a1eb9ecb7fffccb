// GroupMember: members join with data, anyone lists them, a watcher sees every join and
// departure (also of a member whose session expired), ids are unique across sessions, and
// leaving (or going away) leaves no node behind.
#include <asio/use_future.hpp>
#include <set>

#include "corral/recipes/group_member.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

/// The memberships a watcher was told of, in order.
class Seen {
 public:
  GroupListener listener() {
    return [this](const GroupChange& c) {
      std::lock_guard lock(mu_);
      changes_.push_back(c);
    };
  }
  /// The ids in the latest membership reported.
  std::set<std::string> ids() {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    if (!changes_.empty())
      for (auto& m : changes_.back().members) out.insert(m.id);
    return out;
  }
  std::vector<GroupChange> changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  std::mutex mu_;
  std::vector<GroupChange> changes_;
};

TEST(Group, MembersJoinListAndLeaveWhileWatched) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string root = test_root(*admin);
  const std::string path = root + "/svc/search";   // parents made as containers
  GroupMember observer(*admin, path, "observer");  // watches without joining
  Seen seen;
  observer.watch(seen.listener());
  ASSERT_TRUE(wait_until(10s, [&] { return !seen.changes().empty(); })) << "no first call";

  constexpr int kMembers = 5;
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<GroupMember>> members;
  std::set<std::string> expected;
  for (int i = 0; i < kMembers; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    std::string id = "host-" + std::to_string(i);
    members.push_back(std::make_unique<GroupMember>(**clients.back(), path, id, "port=" + id));
    ASSERT_TRUE(await(members.back()->join(use_future)).ok());
    EXPECT_TRUE(members.back()->joined());
    expected.insert(id);
  }
  ASSERT_TRUE(wait_until(10s, [&] { return seen.ids() == expected; }));
  auto listed = await(GroupMember::members(*admin, path, use_future));
  ASSERT_TRUE(listed.ok()) << text(listed.error());
  ASSERT_EQ(listed->size(), size_t{kMembers});
  for (auto& m : *listed) EXPECT_EQ(m.data, "port=" + m.id);
  // members[0]'s server may not have applied the later joins yet: sync it first.
  ASSERT_TRUE(await((*clients[0])->sync(path, use_future)).ok());
  EXPECT_EQ(await(members[0]->members(use_future)).value(), *listed);

  ASSERT_TRUE(await(members[1]->leave(use_future)).ok());
  EXPECT_FALSE(members[1]->joined());
  ASSERT_TRUE(await(members[1]->leave(use_future)).ok()) << "leaving twice is fine";
  expected.erase("host-1");
  ASSERT_TRUE(wait_until(10s, [&] { return seen.ids() == expected; }));
  auto changes = seen.changes();
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().departed, std::vector<std::string>{"host-1"});
  for (auto& c : changes)  // each join reported once, with the member's data
    for (auto& m : c.joined) EXPECT_EQ(m.data, "port=" + m.id);

  members.clear();  // ~GroupMember leaves
  clients.clear();
  ASSERT_TRUE(wait_until(10s, [&] { return seen.ids().empty(); }));
  auto rest = children_of(*admin, path);
  EXPECT_TRUE(rest.error() == ErrorCode::kNoNode || (rest.ok() && rest->empty()));
}

TEST(Group, ExpiredMemberDisappearsForWatchers) {
  TestClient a({.timeout = 2000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*b) + "/group";
  GroupMember ma(*a, path, "a", "A"), mb(*b, path, "b", "B");
  ASSERT_TRUE(await(ma.join(use_future)).ok());
  ASSERT_TRUE(await(mb.join(use_future)).ok());
  Seen seen;
  mb.watch(seen.listener());
  ASSERT_TRUE(wait_until(10s, [&] { return seen.ids() == std::set<std::string>{"a", "b"}; }));
  a.freeze();  // silent: the ensemble expires its session and its node goes
  ASSERT_TRUE(wait_until(30s, [&] { return seen.ids() == std::set<std::string>{"b"}; }))
      << "the watcher never saw the expired member go";
  EXPECT_EQ(seen.changes().back().departed, std::vector<std::string>{"a"});
  a.thaw();
  ASSERT_TRUE(wait_until(20s, [&] { return !ma.joined(); })) << "the member was not told";
  EXPECT_EQ(await(ma.join(use_future)).error(), ErrorCode::kSessionExpired);
  auto listed = await(GroupMember::members(*b, path, use_future));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<Member>{{"b", "B"}}));
}

TEST(Group, AnIdBelongsToOneSession) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/group";
  GroupMember ma(*a, path, "same"), mb(*b, path, "same");
  ASSERT_TRUE(await(ma.join(use_future)).ok());
  ASSERT_TRUE(await(ma.join(use_future)).ok()) << "joining twice is fine";
  EXPECT_EQ(await(mb.join(use_future)).error(), ErrorCode::kNodeExists);
  EXPECT_FALSE(mb.joined());
  ASSERT_TRUE(await(ma.leave(use_future)).ok());
  ASSERT_TRUE(await(mb.join(use_future)).ok());
  // Listed through b, whose server has applied b's join: a's server may not have yet (ZooKeeper
  // promises a session its own writes, not another's without a sync).
  auto listed = await(GroupMember::members(*b, path, use_future));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

}  // namespace
}  // namespace corral::recipes::test
