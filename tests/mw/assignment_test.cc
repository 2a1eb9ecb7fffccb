// assignment.h: the planner's rules (least-loaded first, slots honoured, ties by id, tasks in
// id order).
#include "apps/master-worker/assignment.h"

#include <gtest/gtest.h>

#include <map>

namespace corral::mw {
namespace {

std::string t(int n) {
  std::string digits = std::to_string(n);
  return "task-" + std::string(10 - digits.size(), '0') + digits;
}

TEST(Planner, NothingWithoutWorkersOrTasks) {
  EXPECT_TRUE(plan_assignments({t(1)}, {}).empty());
  EXPECT_TRUE(plan_assignments({}, {{"w1", 2, 0}}).empty());
}

TEST(Planner, LeastLoadedFirstTiesById) {
  auto plan = plan_assignments({t(1), t(2), t(3)}, {{"w2", 4, 0}, {"w1", 4, 0}, {"w3", 4, 1}});
  std::vector<PlannedAssignment> want = {{t(1), "w1"}, {t(2), "w2"}, {t(3), "w1"}};
  // After t1 -> w1 and t2 -> w2, all three have load 1: w1 wins the tie.
  EXPECT_EQ(plan, want);
}

TEST(Planner, SlotsHonoured) {
  auto plan = plan_assignments({t(1), t(2), t(3), t(4), t(5)}, {{"a", 1, 0}, {"b", 2, 1}});
  std::vector<PlannedAssignment> want = {{t(1), "a"}, {t(2), "b"}};
  EXPECT_EQ(plan, want);
  EXPECT_TRUE(plan_assignments({t(1)}, {{"full", 2, 2}, {"over", 1, 3}}).empty());
}

TEST(Planner, TasksInIdOrderAndDuplicatesIgnored) {
  auto plan = plan_assignments({t(9), t(3), t(3), t(5)}, {{"w", 2, 0}});
  std::vector<PlannedAssignment> want = {{t(3), "w"}, {t(5), "w"}};
  EXPECT_EQ(plan, want);
}

TEST(Planner, SpreadsEvenly) {
  std::vector<std::string> tasks;
  for (int i = 1; i <= 12; ++i) tasks.push_back(t(i));
  auto plan = plan_assignments(tasks, {{"x", 4, 0}, {"y", 4, 0}, {"z", 4, 0}});
  ASSERT_EQ(plan.size(), 12u);
  std::map<std::string, int> per;
  for (const auto& a : plan) ++per[a.worker];
  EXPECT_EQ(per["x"], 4);
  EXPECT_EQ(per["y"], 4);
  EXPECT_EQ(per["z"], 4);
}

TEST(Planner, UnevenSlotsFillTheBigWorker) {
  auto plan = plan_assignments({t(1), t(2), t(3), t(4)}, {{"big", 3, 0}, {"small", 1, 0}});
  std::map<std::string, int> per;
  for (const auto& a : plan) ++per[a.worker];
  EXPECT_EQ(per["big"], 3);
  EXPECT_EQ(per["small"], 1);
}

}  // namespace
}  // namespace corral::mw
