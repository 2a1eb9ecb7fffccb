// layout.h: paths, ids, kinds and args, and the JSON of every node (round trips, malformed
// data reported, never thrown).
#include "apps/master-worker/layout.h"

#include <gtest/gtest.h>

namespace corral::mw {
namespace {

TEST(Layout, Paths) {
  EXPECT_EQ(worker_path("w1"), "/workers/w1");
  EXPECT_EQ(task_path("task-0000000001"), "/tasks/task-0000000001");
  EXPECT_EQ(assign_dir("w1"), "/assign/w1");
  EXPECT_EQ(assign_path("w1", "task-0000000001"), "/assign/w1/task-0000000001");
  EXPECT_EQ(status_path("task-0000000001"), "/status/task-0000000001");
}

TEST(Layout, TaskIds) {
  EXPECT_TRUE(valid_task_id("task-0000000042"));
  EXPECT_TRUE(valid_task_id("task-9999999999"));
  EXPECT_FALSE(valid_task_id("task-42"));
  EXPECT_FALSE(valid_task_id("task-00000000042"));
  EXPECT_FALSE(valid_task_id("task-000000004x"));
  EXPECT_FALSE(valid_task_id("Task-0000000042"));
  EXPECT_FALSE(valid_task_id(""));
  EXPECT_FALSE(valid_task_id("task-0000000042/x"));
}

TEST(Layout, MemberIds) {
  EXPECT_TRUE(valid_member_id("worker-1"));
  EXPECT_TRUE(valid_member_id("host:42.a_b"));
  EXPECT_FALSE(valid_member_id(""));
  EXPECT_FALSE(valid_member_id(".."));
  EXPECT_FALSE(valid_member_id("a/b"));
  EXPECT_FALSE(valid_member_id("a b"));
  EXPECT_FALSE(valid_member_id(std::string(129, 'a')));
}

TEST(Layout, KindsAndArgs) {
  EXPECT_EQ(validate_task("sleep", "0"), "");
  EXPECT_EQ(validate_task("sleep", "600000"), "");
  EXPECT_NE(validate_task("sleep", "600001"), "");
  EXPECT_NE(validate_task("sleep", "-1"), "");
  EXPECT_NE(validate_task("sleep", "1.5"), "");
  EXPECT_NE(validate_task("sleep", ""), "");
  EXPECT_NE(validate_task("sleep", " 5"), "");
  EXPECT_NE(validate_task("sleep", "99999999999999999999999"), "");
  EXPECT_EQ(validate_task("hash", "1"), "");
  EXPECT_EQ(validate_task("hash", "1000000000"), "");
  EXPECT_NE(validate_task("hash", "0"), "");
  EXPECT_NE(validate_task("hash", "1000000001"), "");
  EXPECT_EQ(validate_task("fail", ""), "");
  EXPECT_EQ(validate_task("fail", "anything"), "");
  EXPECT_EQ(validate_task("shell", "echo hi"), "");
  EXPECT_NE(validate_task("shell", "echo hi", /*allow_shell=*/false), "");
  EXPECT_NE(validate_task("shell", ""), "");
  std::string why = validate_task("nap", "5");
  EXPECT_NE(why.find("unknown kind"), std::string::npos) << why;
  EXPECT_NE(validate_task("sleep", "abc").find("\"abc\""), std::string::npos);
}

TEST(Layout, TruncateResultKeepsUtf8Whole) {
  EXPECT_EQ(truncate_result("short"), "short");
  std::string s(kMaxResultBytes - 1, 'a');
  s += "\xc3\xa9";  // é across the limit
  std::string cut = truncate_result(s);
  EXPECT_EQ(cut.size(), kMaxResultBytes - 1);
  EXPECT_EQ(truncate_result(std::string(10000, 'x')).size(), kMaxResultBytes);
}

TEST(Layout, WorkerInfoRoundTrip) {
  WorkerInfo w{"w1", "host-a", 123, 4, 1700000000000};
  auto back = parse_worker_info(serialize(w));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "w1");
  EXPECT_EQ(back->host, "host-a");
  EXPECT_EQ(back->pid, 123);
  EXPECT_EQ(back->slots, 4);
  EXPECT_EQ(back->started_ms, 1700000000000);
}

TEST(Layout, TaskRoundTripPendingAndAssigned) {
  Task t{"hash", "1000", 111, 0, 0, ""};
  std::string data = serialize(t);
  EXPECT_EQ(data.find("master"), std::string::npos);  // pending: no assigned fields
  auto pending = parse_task(data, false);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->kind, "hash");
  EXPECT_EQ(pending->arg, "1000");
  EXPECT_EQ(pending->attempt, 0);
  EXPECT_FALSE(pending->assigned());
  std::string why;
  EXPECT_FALSE(parse_task(data, true, &why));  // an assignment needs assigned_ms and master
  EXPECT_NE(why.find("assigned_ms"), std::string::npos) << why;

  t.attempt = 2;
  t.assigned_ms = 222;
  t.master = "m1";
  auto assigned = parse_task(serialize(t), true);
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->attempt, 2);
  EXPECT_EQ(assigned->assigned_ms, 222);
  EXPECT_EQ(assigned->master, "m1");
  // Read as pending, the assignment fields are dropped.
  auto as_pending = parse_task(serialize(t), false);
  ASSERT_TRUE(as_pending);
  EXPECT_FALSE(as_pending->assigned());
  EXPECT_EQ(serialize(t.pending()), serialize(*as_pending));
}

TEST(Layout, StatusRoundTripWithRuns) {
  TaskStatus s;
  s.state = TaskState::kDone;
  s.worker = "w2";
  s.attempt = 2;
  s.result = "slept 5 ms";
  s.started_ms = 10;
  s.finished_ms = 20;
  s.runs = {{"w1", 1, 1, 0, TaskState::kRunning}, {"w2", 2, 10, 20, TaskState::kDone}};
  auto back = parse_task_status(serialize(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, TaskState::kDone);
  EXPECT_TRUE(back->finished());
  EXPECT_EQ(back->worker, "w2");
  EXPECT_EQ(back->result, "slept 5 ms");
  ASSERT_EQ(back->runs.size(), 2u);
  EXPECT_EQ(back->runs[0].worker, "w1");
  EXPECT_EQ(back->runs[0].finished_ms, 0);
  EXPECT_EQ(back->runs[0].state, TaskState::kRunning);
  EXPECT_EQ(back->runs[1].state, TaskState::kDone);
  EXPECT_EQ(serialize(*back), serialize(s));
}

TEST(Layout, StatusCarriesTheTaskWhenGiven) {
  TaskStatus s;
  s.worker = "w1";
  s.attempt = 1;
  auto bare = nlohmann::json::parse(serialize(s));
  EXPECT_FALSE(bare.contains("kind"));  // optional: absent unless a worker copied them
  EXPECT_FALSE(bare.contains("submitted_ms"));
  s.kind = "hash";
  s.arg = "1000";
  s.submitted_ms = 42;
  auto back = parse_task_status(serialize(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, "hash");
  EXPECT_EQ(back->arg, "1000");
  EXPECT_EQ(back->submitted_ms, 42);
  auto old = parse_task_status(
      R"({"state":"done","worker":"w","attempt":1,"result":"","started_ms":1,"finished_ms":2,"runs":[]})");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->kind, "");
  EXPECT_FALSE(parse_task_status(
      R"({"state":"done","worker":"w","attempt":1,"result":"","started_ms":1,"finished_ms":2,"runs":[],"kind":7})"));
}

TEST(Layout, UnknownFieldsIgnored) {
  auto t = parse_task(R"({"kind":"sleep","arg":"5","submitted_ms":1,"attempt":0,"x":[1]})", false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->arg, "5");
}

TEST(Layout, InvalidUtf8IsReplacedNotThrown) {
  TaskStatus s;
  s.result = "bad \xff\xfe bytes";
  std::string data;
  EXPECT_NO_THROW(data = serialize(s));
  EXPECT_TRUE(parse_task_status(data));
}

TEST(Layout, MalformedReportedNeverThrown) {
  const char* bad_tasks[] = {
      "",
      "not json",
      "[1,2]",
      "null",
      R"({"kind":"sleep","arg":5,"submitted_ms":1,"attempt":0})",              // arg not a string
      R"({"kind":"sleep","arg":"5","submitted_ms":"1","attempt":0})",          // time not a number
      R"({"kind":"sleep","arg":"5","submitted_ms":1,"attempt":-1})",           // negative attempt
      R"({"kind":"sleep","arg":"5","submitted_ms":1.5,"attempt":0})",          // not an integer
      R"({"kind":"sleep","submitted_ms":1,"attempt":0})",                      // missing arg
      R"({"kind":"sleep","arg":"5","submitted_ms":1,"attempt":99999999999})",  // overflows int
      "{\"kind\":\"sleep\"",                                                   // truncated
  };
  for (const char* data : bad_tasks) {
    std::string why;
    std::optional<Task> t;
    EXPECT_NO_THROW(t = parse_task(data, false, &why)) << data;
    EXPECT_FALSE(t) << data;
    EXPECT_FALSE(why.empty()) << data;
  }
  std::string why;
  EXPECT_FALSE(parse_worker_info(R"({"id":"w","host":"h","pid":1,"slots":0,"started_ms":1})",
                                 &why));  // slots < 1
  EXPECT_FALSE(parse_task_status(
      R"({"state":"sleeping","worker":"w","attempt":1,"result":"","started_ms":1,"finished_ms":0,"runs":[]})",
      &why));
  EXPECT_NE(why.find("state"), std::string::npos) << why;
  EXPECT_FALSE(parse_task_status(
      R"({"state":"done","worker":"w","attempt":1,"result":"","started_ms":1,"finished_ms":0,"runs":{}})",
      &why));
  EXPECT_FALSE(parse_task_status(
      R"({"state":"done","worker":"w","attempt":1,"result":"","started_ms":1,"finished_ms":0,"runs":[{"worker":"w"}]})",
      &why));
  EXPECT_NE(why.find("run"), std::string::npos) << why;
}

}  // namespace
}  // namespace corral::mw
