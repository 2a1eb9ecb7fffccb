// ConfigNode: compare-and-set updates (ZBADVERSION when stale), watchers that see every
// change once and in order (quick changes may coalesce, the last always arrives), delete
// and re-create, and JSON that reports malformed data instead of throwing.
#include <asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "corral/recipes/config_node.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

/// The values a listener was given, in order.
class Values {
 public:
  ConfigListener listener() {
    return [this](const ConfigValue& v) {
      std::lock_guard lock(mu_);
      values_.push_back(v);
    };
  }
  std::vector<ConfigValue> all() {
    std::lock_guard lock(mu_);
    return values_;
  }
  ConfigValue last() {
    std::lock_guard lock(mu_);
    return values_.empty() ? ConfigValue{"<none>", -2} : values_.back();
  }

 private:
  std::mutex mu_;
  std::vector<ConfigValue> values_;
};

TEST(Config, CompareAndSetAndOrderedDelivery) {
  TestClient writer_client, reader_client;
  ASSERT_TRUE(writer_client.connected() && reader_client.connected());
  const std::string path = test_root(*writer_client) + "/cfg/search";
  ConfigNode writer(*writer_client, path), reader(*reader_client, path);
  Values seen;
  reader.on_change(seen.listener());
  auto first = await(reader.start(use_future));
  ASSERT_TRUE(first.ok()) << text(first.error());
  EXPECT_FALSE(first->exists());
  ASSERT_TRUE(await(writer.start(use_future)).ok());

  auto made = await(writer.update(-1, "v0", use_future));
  ASSERT_TRUE(made.ok()) << text(made.error());
  EXPECT_EQ(made->version, 0);
  EXPECT_EQ(await(writer.update(-1, "again", use_future)).error(), ErrorCode::kBadVersion);
  EXPECT_EQ(writer.current().data, "v0") << "an update shows in current() at once";
  constexpr int kUpdates = 50;
  for (int i = 1; i <= kUpdates; ++i) {
    auto r = await(writer.update(i - 1, "v" + std::to_string(i), use_future));
    ASSERT_TRUE(r.ok()) << i << ": " << text(r.error());
    EXPECT_EQ(r->version, i);
  }
  EXPECT_EQ(await(writer.update(3, "stale", use_future)).error(), ErrorCode::kBadVersion);
  ASSERT_TRUE(wait_until(10s, [&] { return seen.last().version == kUpdates; }));
  auto all = seen.all();
  EXPECT_FALSE(all.front().exists()) << "the first value is the missing node";
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(all[i].mzxid, all[i - 1].mzxid) << "value " << i << " delivered out of order";
    EXPECT_EQ(all[i].data, "v" + std::to_string(all[i].version));
  }
  EXPECT_EQ(reader.current().data, "v" + std::to_string(kUpdates));
  // No change: nothing more is delivered.
  EXPECT_FALSE(wait_until(200ms, [&] { return seen.all().size() != all.size(); }));
}

TEST(Config, DeleteAndRecreateAreSeen) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/cfg";
  ASSERT_TRUE(await(a->create(path, "one", {}, use_future)).ok());
  ConfigNode reader(*b, path);
  Values seen;
  reader.on_change(seen.listener());
  ASSERT_TRUE(await(reader.start(use_future)).ok());
  EXPECT_EQ(reader.current().data, "one");
  ASSERT_TRUE(await(a->remove(path, -1, use_future)).ok());
  ASSERT_TRUE(wait_until(10s, [&] { return !reader.current().exists(); }));
  ASSERT_TRUE(await(a->create(path, "two", {}, use_future)).ok());
  ASSERT_TRUE(wait_until(10s, [&] { return reader.current().data == "two"; }));
  auto all = seen.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].data, "one");
  EXPECT_FALSE(all[1].exists());
  EXPECT_EQ(all[2].version, 0);
  EXPECT_GT(all[2].mzxid, all[0].mzxid);
}

TEST(Config, JsonHelpers) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/cfg";
  ConfigNode writer(*a, path), reader(*b, path);
  ASSERT_TRUE(await(reader.start(use_future)).ok());
  EXPECT_EQ(reader.current_json().error(), ErrorCode::kNoNode);
  auto r =
      await(writer.update_json(-1, nlohmann::json{{"replicas", 3}, {"zone", "b"}}, use_future));
  ASSERT_TRUE(r.ok()) << text(r.error());
  ASSERT_TRUE(wait_until(10s, [&] { return reader.current().exists(); }));
  auto j = reader.current_json();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["replicas"], 3);
  EXPECT_EQ((*j)["zone"], "b");
  ASSERT_TRUE(await(a->set(path, "{not json", -1, use_future)).ok());
  ASSERT_TRUE(wait_until(10s, [&] { return reader.current().version == 1; }));
  EXPECT_EQ(reader.current_json().error(), ErrorCode::kMarshallingError);
}

}  // namespace
}  // namespace corral::recipes::test
