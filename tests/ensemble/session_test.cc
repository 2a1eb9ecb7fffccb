// SessionTracker: ids, deadlines and expiry, with every time passed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ensemble/session/session_tracker.h"

namespace corral::session {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // a realistic wall-clock time in ms

TEST(SessionIds, CarryServerIdInTopByte) {
  for (int64_t server : {0, 1, 7, 254}) {
    SessionTracker t(server, kNow);
    int64_t id = t.next_session_id();
    EXPECT_EQ(static_cast<uint64_t>(id) >> 56, static_cast<uint64_t>(server)) << server;
  }
}

TEST(SessionIds, LowBitsComeFromTimeAsInZooKeeper) {
  // ZooKeeper: ((now << 24) >>> 8) | (serverId << 56).
  SessionTracker t(3, kNow);
  uint64_t expected = ((static_cast<uint64_t>(kNow) << 24) >> 8) | (3ull << 56);
  EXPECT_EQ(static_cast<uint64_t>(t.next_session_id()), expected);
}

TEST(SessionIds, AreConsecutiveAndDistinct) {
  SessionTracker t(1, kNow);
  int64_t first = t.next_session_id();
  std::set<int64_t> ids{first};
  for (int i = 1; i < 100; ++i) {
    int64_t id = t.next_session_id();
    EXPECT_EQ(id, first + i);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  // Two servers started at the same moment hand out different ids.
  SessionTracker a(1, kNow), b(2, kNow);
  EXPECT_NE(a.next_session_id(), b.next_session_id());
  // A restart later does not reuse the ids of the previous run.
  SessionTracker later(1, kNow + 1);
  EXPECT_GT(later.next_session_id(), first + 99);
  // Ids are never 0 (0 means "no session" in ConnectRequest).
  EXPECT_NE(SessionTracker(0, kNow).next_session_id(), 0);
}

TEST(SessionTracker, NextIdDoesNotTrack) {
  SessionTracker t(1, kNow);
  int64_t id = t.next_session_id();
  EXPECT_EQ(t.find(id), nullptr);
  EXPECT_TRUE(t.sessions().empty());
}

TEST(SessionTracker, AddAndFind) {
  SessionTracker t(1, kNow);
  int64_t id = t.next_session_id();
  std::string pw = SessionTracker::new_password();
  t.add(id, 5000, pw, kNow);
  Session* s = t.find(id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->id, id);
  EXPECT_EQ(s->timeout_ms, 5000);
  EXPECT_EQ(s->passwd, pw);
  EXPECT_EQ(s->expires_at_ms, kNow + 5000);
  EXPECT_FALSE(s->closing);
  EXPECT_EQ(t.sessions().size(), 1u);
  EXPECT_EQ(t.find(id + 1), nullptr);
}

TEST(SessionTracker, TouchPushesDeadline) {
  SessionTracker t(1, kNow);
  t.add(10, 4000, "pw", kNow);
  EXPECT_TRUE(t.touch(10, kNow + 3000));
  EXPECT_EQ(t.find(10)->expires_at_ms, kNow + 7000);
  EXPECT_TRUE(t.expire(kNow + 6999).empty());
  EXPECT_EQ(t.expire(kNow + 7000), std::vector<int64_t>{10});
  EXPECT_FALSE(t.touch(99, kNow));  // unknown
}

TEST(SessionTracker, ExpireOnlyOnceAndMarksClosing) {
  SessionTracker t(1, kNow);
  t.add(10, 4000, "pw", kNow);
  EXPECT_TRUE(t.expire(kNow).empty());
  EXPECT_TRUE(t.expire(kNow + 3999).empty());
  EXPECT_EQ(t.expire(kNow + 4000), std::vector<int64_t>{10});
  ASSERT_NE(t.find(10), nullptr);  // still tracked until removed
  EXPECT_TRUE(t.find(10)->closing);
  EXPECT_TRUE(t.expire(kNow + 100000).empty());
  // A closing session is not touched back to life.
  EXPECT_FALSE(t.touch(10, kNow + 5000));
  EXPECT_EQ(t.find(10)->expires_at_ms, kNow + 4000);
}

TEST(SessionTracker, ClosingSessionsAreNotTouched) {
  SessionTracker t(1, kNow);
  t.add(10, 4000, "pw", kNow);
  t.find(10)->closing = true;  // closeSession began
  EXPECT_FALSE(t.touch(10, kNow + 1000));
  EXPECT_EQ(t.find(10)->expires_at_ms, kNow + 4000);
  EXPECT_TRUE(t.expire(kNow + 4000).empty());  // already closing: not reported again
}

TEST(SessionTracker, SessionsExpireIndependently) {
  SessionTracker t(1, kNow);
  t.add(1, 2000, "a", kNow);
  t.add(2, 6000, "b", kNow);
  t.add(3, 4000, "c", kNow);
  EXPECT_TRUE(t.touch(1, kNow + 1500));  // 1 now expires at kNow + 3500
  EXPECT_TRUE(t.expire(kNow + 3000).empty());
  EXPECT_EQ(t.expire(kNow + 3500), std::vector<int64_t>{1});
  EXPECT_EQ(t.expire(kNow + 4000), std::vector<int64_t>{3});
  EXPECT_TRUE(t.touch(2, kNow + 4000));
  EXPECT_TRUE(t.expire(kNow + 9999).empty());
  EXPECT_EQ(t.expire(kNow + 10000), std::vector<int64_t>{2});
}

// expire() walks the sessions only once the earliest deadline may have passed (the leader
// asks every 20 ms). A deadline changed behind the tracker's back shows whether it walked.
TEST(SessionTracker, ExpireWalksOnlyOnceTheEarliestDeadlineIsDue) {
  SessionTracker t(1, kNow);
  t.add(1, 2000, "a", kNow);
  t.add(2, 5000, "b", kNow);
  EXPECT_TRUE(t.expire(kNow + 1000).empty());  // a walk: the earliest deadline is kNow + 2000
  t.find(2)->expires_at_ms = kNow;             // not through touch: the tracker cannot know
  EXPECT_TRUE(t.expire(kNow + 1999).empty()) << "walked before the earliest deadline";
  std::vector<int64_t> gone = t.expire(kNow + 2000);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<int64_t>{1, 2}));
}

// A reconnect may ask for a shorter timeout: the session's new, earlier deadline counts even
// though the last walk found a later earliest deadline.
TEST(SessionTracker, ATouchWithAShorterTimeoutExpiresOnTime) {
  SessionTracker t(1, kNow);
  t.add(1, 10000, "a", kNow);
  EXPECT_TRUE(t.expire(kNow + 1).empty());  // earliest deadline now kNow + 10000
  t.find(1)->timeout_ms = 2000;             // as resume_session does, then touches
  EXPECT_TRUE(t.touch(1, kNow + 100));
  EXPECT_TRUE(t.expire(kNow + 2099).empty());
  EXPECT_EQ(t.expire(kNow + 2100), std::vector<int64_t>{1});
}

// A close or expiry begun under a leader that is gone is undone by reopen_all(): the next
// walk must find the session again, with no touch in between.
TEST(SessionTracker, ReopenedSessionsExpireAgain) {
  SessionTracker t(1, kNow);
  t.add(1, 1000, "a", kNow);
  t.add(2, 60000, "b", kNow);
  EXPECT_EQ(t.expire(kNow + 1000), std::vector<int64_t>{1});  // earliest now kNow + 60000
  t.reopen_all();
  EXPECT_EQ(t.expire(kNow + 1001), std::vector<int64_t>{1});
}

TEST(SessionTracker, ManyExpireAtOnce) {
  SessionTracker t(1, kNow);
  for (int64_t id = 1; id <= 5; ++id) t.add(id, 1000, "pw", kNow);
  std::vector<int64_t> gone = t.expire(kNow + 1000);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST(SessionTracker, Remove) {
  SessionTracker t(1, kNow);
  t.add(1, 2000, "a", kNow);
  t.add(2, 2000, "b", kNow);
  t.remove(1);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_FALSE(t.touch(1, kNow));
  EXPECT_EQ(t.expire(kNow + 2000), std::vector<int64_t>{2});
  t.remove(2);
  t.remove(2);  // removing twice is harmless
  EXPECT_TRUE(t.sessions().empty());
}

TEST(SessionTracker, AddAgainReplaces) {
  SessionTracker t(1, kNow);
  t.add(1, 2000, "a", kNow);
  t.find(1)->closing = true;
  t.add(1, 3000, "b", kNow + 10);
  EXPECT_EQ(t.find(1)->timeout_ms, 3000);
  EXPECT_EQ(t.find(1)->passwd, "b");
  EXPECT_EQ(t.find(1)->expires_at_ms, kNow + 3010);
  EXPECT_FALSE(t.find(1)->closing);
}

TEST(SessionPassword, SixteenRandomBytes) {
  std::string a = SessionTracker::new_password();
  std::string b = SessionTracker::new_password();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(b.size(), 16u);
  EXPECT_NE(a, b);
}

// A new leader reopens sessions whose close never committed (tests/nemesis found one that
// then never expired): they expire again on their timeout.
TEST(SessionTracker, ReopenAllLetsAClosingSessionExpireAgain) {
  SessionTracker t(1, 0);
  t.add(7, 1000, "pw", 0);
  EXPECT_EQ(t.expire(2000), std::vector<int64_t>{7});
  EXPECT_TRUE(t.expire(5000).empty());  // closing: not expired twice
  EXPECT_FALSE(t.touch(7, 5000));
  t.reopen_all();
  EXPECT_TRUE(t.touch(7, 5000));
  EXPECT_TRUE(t.expire(5999).empty());
  EXPECT_EQ(t.expire(6000), std::vector<int64_t>{7});
}

}  // namespace
}  // namespace corral::session
