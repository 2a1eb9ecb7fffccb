// ChildNames against a std::set<std::string> model: random inserts and erases in a parent big
// enough to split and drop blocks, appends in order, lookups, upper_bound and both directions.
#include "ensemble/tree/child_names.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ensemble/tree/node_entry.h"

namespace corral::tree {
namespace {

// Owns the children's entries (as the DataTree's table does). Each child of /p is named
// `name`; its node's czxid counts the entries made.
class Names {
 public:
  const ChildNames::Entry& add(const std::string& name) {
    NodeEntry& e = *entries_.emplace_back(NodeEntry::make("/p/" + name));
    e.node().czxid = static_cast<int64_t>(entries_.size());
    return e;
  }

 private:
  std::vector<NodeEntry::Owned> entries_;
};

std::vector<std::string> listed(const ChildNames& c) { return {c.begin(), c.end()}; }

void expect_same(const ChildNames& c, const std::set<std::string>& model) {
  ASSERT_EQ(c.size(), model.size());
  ASSERT_EQ(c.empty(), model.empty());
  ASSERT_EQ(listed(c), std::vector<std::string>(model.begin(), model.end()));
  std::vector<std::string> backwards(c.rbegin(), c.rend());
  ASSERT_EQ(backwards, std::vector<std::string>(model.rbegin(), model.rend()));
}

/// The sequential name of `i` (as ZooKeeper numbers sequential znodes).
std::string sequential(size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "q%010zu", i);
  return buf;
}

/// Appends `count` sequential names to `c` and `model`: full blocks of kBlock.
void append_sequential(Names& names, ChildNames& c, std::set<std::string>& model, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    c.insert(names.add(sequential(i)));
    model.insert(sequential(i));
  }
}

/// Expects `c` to answer contains and upper_bound for `name` as `model` does.
void expect_found_as(const ChildNames& c, const std::set<std::string>& model,
                     const std::string& name) {
  ASSERT_EQ(c.contains(name), model.contains(name)) << name;
  auto it = c.upper_bound(name);
  auto want = model.upper_bound(name);
  if (want == model.end()) {
    ASSERT_TRUE(it == c.end()) << name;
  } else {
    ASSERT_EQ(*it, *want) << name;
  }
}

/// 20,000 random steps on `c` and `model` alike: an erase of `random_name()` one step in
/// `erase_one_in`, else an insert; then 2,000 random lookups and one of each name left.
template <class RandomName>
void expect_random_steps_match(std::mt19937& rng, unsigned erase_one_in, RandomName random_name) {
  Names names;
  ChildNames c;
  std::set<std::string> model;
  for (int step = 0; step < 20000; ++step) {
    std::string name = random_name();
    if (rng() % erase_one_in == 0) {
      c.erase(name);
      model.erase(name);
    } else {
      c.insert(names.add(name));
      model.insert(name);
    }
    if (step % 997 == 0) expect_same(c, model);
  }
  expect_same(c, model);
  for (int probe = 0; probe < 2000; ++probe) expect_found_as(c, model, random_name());
  for (const auto& name : model) expect_found_as(c, model, name);
}

TEST(ChildNames, RandomInsertsAndErasesMatchASortedSet) {
  std::mt19937 rng(7);
  // 5,000 names from 20,000 possible ones: enough to split blocks of 128 many times over.
  expect_random_steps_match(rng, 3, [&] { return "n" + std::to_string(rng() % 20000); });
}

// Finding a block compares the first 8 bytes of names as numbers first: names that end before,
// at and after 8 bytes, prefixes of one another, and bytes above 0x7f (which order unsigned)
// must find their blocks as their texts order.
TEST(ChildNames, NamesAroundTheirFirstEightBytesOrderAsTheirTexts) {
  std::mt19937 rng(17);
  const std::string alphabet = {'\x01', 'a', 'b', '\x7f', '\x80', '\xff'};
  expect_random_steps_match(rng, 4, [&] {
    std::string name(1 + rng() % 12, 'a');
    for (char& ch : name) ch = alphabet[rng() % alphabet.size()];
    return name;
  });
}

// Appends (new blocks at the end), inserts that split blocks and erases that empty them, in any
// order: each block's last name, which finding a block reads, stays right after every step.
TEST(ChildNames, BlocksAreFoundAfterEveryKindOfChange) {
  std::mt19937 rng(11);
  Names names;
  ChildNames c;
  std::set<std::string> model;
  size_t appended = 0;
  for (int step = 0; step < 30000; ++step) {
    const int op = static_cast<int>(rng() % 4);
    if (op == 0) {
      const std::string name = sequential(appended++);  // "q...": after every "n..."
      c.insert(names.add(name));
      model.insert(name);
    } else {
      const std::string name = "n" + std::to_string(rng() % 3000);
      if (op == 1) {
        c.erase(name);
        model.erase(name);
      } else {
        c.insert(names.add(name));
        model.insert(name);
      }
    }
    if (rng() % 2 == 0 && !model.empty()) {  // erase the last name: a block's last changes
      c.erase(*model.rbegin());
      model.erase(std::prev(model.end()));
    }
    expect_found_as(c, model, "n" + std::to_string(rng() % 3000));
    expect_found_as(c, model, sequential(rng() % (appended + 1)));
    if (step % 1000 == 0) expect_same(c, model);
  }
  expect_same(c, model);
}

TEST(ChildNames, AppendsInOrderAndErasesToNothing) {
  Names names;
  ChildNames c;
  std::set<std::string> model;
  append_sequential(names, c, model, 1000);
  c.insert(names.add("q0000000500"));  // already there: nothing changes
  expect_same(c, model);
  EXPECT_EQ(*c.begin(), "q0000000000");
  EXPECT_EQ(*c.rbegin(), "q0000000999");
  EXPECT_TRUE(c.upper_bound("q0000000999") == c.end());
  EXPECT_EQ(*c.upper_bound(""), "q0000000000");
  c.erase("absent");
  for (const auto& name : std::set<std::string>(model)) {
    c.erase(name);
    model.erase(name);
  }
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_TRUE(c.begin() == c.end());
  EXPECT_FALSE(c.contains("q0000000000"));
}

TEST(ChildNames, AnEmptiedBlockInTheMiddleLeavesNoGap) {
  Names names;
  ChildNames c;
  std::set<std::string> model;
  append_sequential(names, c, model, 1000);
  // The third block's names, and then some of the fourth's: walks and lookups cross the gap.
  for (size_t i = 2 * ChildNames::kBlock; i < 3 * ChildNames::kBlock + 10; ++i) {
    c.erase(sequential(i));
    model.erase(sequential(i));
  }
  expect_same(c, model);
  const std::string last_before_gap = sequential(2 * ChildNames::kBlock - 1);
  EXPECT_EQ(*c.upper_bound(last_before_gap), *model.upper_bound(last_before_gap));
  EXPECT_FALSE(c.contains("q0000000300"));
  EXPECT_TRUE(c.contains("q0000000400"));
  // Inserts land in the right block again.
  c.insert(names.add("q0000000300"));
  model.insert("q0000000300");
  expect_same(c, model);
}

TEST(ChildNames, EqualByTextNotByWhereTheTextIs) {
  Names a_names, b_names;
  ChildNames a, b;
  for (std::string n : {"x", "a", "m"}) a.insert(a_names.add(n));
  for (std::string n : {"m", "x", "a"}) b.insert(b_names.add(n));
  EXPECT_TRUE(a == b);
  b.erase("m");
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(ChildNames() == ChildNames());
}

TEST(ChildNames, EachChildIsReachedThroughItsEntry) {
  Names names;
  ChildNames c;
  std::vector<const ChildNames::Entry*> made;
  for (std::string n : {"b", "a", "c"}) made.push_back(&names.add(n));
  for (const auto* e : made) c.insert(*e);
  c.insert(names.add("a"));  // a second entry of a name there already: the first stays
  std::vector<std::string> seen;
  for (auto it = c.begin(); it != c.end(); ++it) {
    EXPECT_EQ(*it, ChildNames::name_of(it.entry()));
    EXPECT_EQ(it.entry().path(), "/p/" + std::string(*it));
    seen.push_back(std::string(*it) + "=" + std::to_string(it.entry().node().czxid));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a=2", "b=1", "c=3"}));
  EXPECT_EQ(ChildNames::name_of(*made[0]), "b");
}

}  // namespace
}  // namespace corral::tree
