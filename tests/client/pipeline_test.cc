// Pipelining: thousands of requests issued at once on one connection all complete, in the
// order they were issued, and each sees exactly the writes issued before it.
#include <array>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

TEST(Pipeline, FiveThousandRequestsCompleteInSubmissionOrder) {
  constexpr int kRequests = 5000;
  constexpr int kNodes = 4;
  // Request i goes to node i % kNodes; every other round is a set, the rest gets. What each
  // should see follows from the order alone (one session's requests are applied in order).
  struct Outcome {
    ErrorCode err = ErrorCode::kOk;
    int32_t version = -1;
    std::string data;
  };
  struct Expect {
    bool is_set = false;
    int32_t version = 0;
    std::string data;
  };
  std::vector<Expect> expect(kRequests);
  std::vector<Outcome> outcome(kRequests);
  std::vector<int> order;
  order.reserve(kRequests);
  std::mutex mu;
  std::atomic<int> done{0};
  std::array<int32_t, kNodes> version{};
  std::array<std::string, kNodes> data{};
  // Declared after what its callbacks touch: it goes first.
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::array<std::string, kNodes> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes[n] = root + "/n" + std::to_string(n);
    ASSERT_TRUE(await(c->create(nodes[n], "", {}, use_future)).ok());
  }

  auto started = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    int n = i % kNodes;
    bool is_set = (i / kNodes) % 3 != 2;
    auto finish = [&, i](ErrorCode err, int32_t v, std::string d) {
      std::lock_guard lock(mu);
      order.push_back(i);
      outcome[i] = {err, v, std::move(d)};
      ++done;
    };
    if (is_set) {
      data[n] = "v" + std::to_string(i);
      expect[i] = {true, ++version[n], data[n]};
      c->set(nodes[n], data[n], version[n] - 1,
             [finish](Result<Stat> r) { finish(r.error(), r->version, ""); });
    } else {
      expect[i] = {false, version[n], data[n]};
      c->get(nodes[n], nullptr,
             [finish](Result<DataResult> r) { finish(r.error(), r->stat.version, r->data); });
    }
  }
  double issued_ms = ms_since(started);
  ASSERT_TRUE(wait_until(
      120s, [&] { return done.load() == kRequests; }, 10ms))
      << done.load() << " of " << kRequests << " requests completed";
  double total_ms = ms_since(started);
  std::printf("%d pipelined requests: issued in %.0f ms, all answered after %.0f ms (%.0f/s)\n",
              kRequests, issued_ms, total_ms, kRequests / (total_ms / 1000));

  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), static_cast<size_t>(kRequests));
  int out_of_order = 0;
  for (int i = 0; i < kRequests; ++i)
    if (order[i] != i && out_of_order++ < 5)
      ADD_FAILURE() << "completion #" << i << " was request " << order[i];
  EXPECT_EQ(out_of_order, 0);

  int wrong = 0;
  for (int i = 0; i < kRequests; ++i) {
    const Outcome& o = outcome[i];
    const Expect& e = expect[i];
    bool ok = o.err == ErrorCode::kOk && o.version == e.version && (e.is_set || o.data == e.data);
    if (!ok && wrong++ < 5)
      ADD_FAILURE() << "request " << i << (e.is_set ? " (set)" : " (get)") << ": " << text(o.err)
                    << " version " << o.version << " data '" << o.data << "', expected version "
                    << e.version << " data '" << e.data << "'";
  }
  EXPECT_EQ(wrong, 0);
  // And the versions of each node's sets rose by one each time, in completion order.
  std::array<int32_t, kNodes> last{};
  for (int i : order) {
    if (!expect[i].is_set) continue;
    int n = i % kNodes;
    EXPECT_EQ(outcome[i].version, last[n] + 1) << "request " << i;
    last[n] = outcome[i].version;
  }
}

TEST(Pipeline, MixedOperationsStayInOrderAcrossErrors) {
  // Failures (ZNONODE, ZNODEEXISTS, ZBADVERSION) in the middle of a pipeline do not disturb
  // the order of the answers around them.
  std::vector<std::pair<int, ErrorCode>> got;
  std::mutex mu;
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto note = [&](int i) {
    return [&, i](ErrorCode e) {
      std::lock_guard lock(mu);
      got.emplace_back(i, e);
    };
  };
  std::string p = root + "/x";
  auto n0 = note(0), n1 = note(1), n2 = note(2), n3 = note(3), n4 = note(4), n5 = note(5),
       n6 = note(6), n7 = note(7);
  c->get(p, nullptr, [n0](Result<DataResult> r) { n0(r.error()); });
  c->create(p, "", {}, [n1](Result<CreateResult> r) { n1(r.error()); });
  c->create(p, "", {}, [n2](Result<CreateResult> r) { n2(r.error()); });
  c->set(p, "a", 5, [n3](Result<Stat> r) { n3(r.error()); });
  c->set(p, "a", 0, [n4](Result<Stat> r) { n4(r.error()); });
  c->multi(Multi().check(p, 0), [n5](Result<std::vector<OpResult>> r) { n5(r.error()); });
  c->remove(p, 1, [n6](Result<void> r) { n6(r.error()); });
  c->exists(p, nullptr, [n7](Result<Stat> r) { n7(r.error()); });
  ASSERT_TRUE(wait_until(20s, [&] {
    std::lock_guard lock(mu);
    return got.size() == 8;
  }));
  std::vector<std::pair<int, ErrorCode>> want = {
      {0, ErrorCode::kNoNode},     {1, ErrorCode::kOk},    {2, ErrorCode::kNodeExists},
      {3, ErrorCode::kBadVersion}, {4, ErrorCode::kOk},    {5, ErrorCode::kBadVersion},
      {6, ErrorCode::kOk},         {7, ErrorCode::kNoNode}};
  EXPECT_EQ(got, want);
}

TEST(Pipeline, LargeAndSmallRepliesInOneBurstArriveWhole) {
  // Replies come in with as much as a read brings: a 300 KiB reply spans many reads and ends
  // in the middle of one, with small replies before and after it in the same reads.
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::vector<std::string> values;
  for (int n = 0; n < 4; ++n) {
    std::string v(n % 2 ? 300 * 1024 : 10 + n, '\0');
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(i * 13 + n + i / 509);
    ASSERT_TRUE(await(c->create(root + "/v" + std::to_string(n), v, {}, use_future)).ok());
    values.push_back(std::move(v));
  }
  std::vector<std::future<Result<DataResult>>> gets;
  for (int i = 0; i < 40; ++i)
    gets.push_back(c->get(root + "/v" + std::to_string(i % 4), nullptr, use_future));
  for (int i = 0; i < 40; ++i) {
    auto g = await(std::move(gets[i]));
    ASSERT_TRUE(g.ok()) << i << ": " << text(g.error());
    EXPECT_EQ(g->data, values[i % 4]) << i;
  }
}

}  // namespace
}  // namespace corral::client::test
