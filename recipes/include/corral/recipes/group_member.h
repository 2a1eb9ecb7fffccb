// Group membership: each member is an ephemeral node PATH/<id> holding the member's data,
// so a member whose process dies (or whose session expires) leaves the group by itself.
// Anyone can list the members or watch them join and depart.
//
//   GroupMember me(client, "/services/search", "host-7:8080", R"({"zone":"b"})");
//   co_await me.join(asio::use_awaitable);
//   me.watch([](const GroupChange& c) { rebalance(c.members); });
//   auto all = co_await GroupMember::members(client, "/services/search", asio::use_awaitable);
//
// Keep the Client alive as long as the GroupMember.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"

namespace corral::recipes {

namespace detail {
class GroupCore;
}

/// A member of a group: its id (node name) and the data it joined with.
struct Member {
  /// The member's name (its node's name under the group's path).
  std::string id;
  /// What the member joined with (its node's data).
  std::string data;
  /// Same id and data.
  bool operator==(const Member&) const = default;
};

/// What changed in a group since the previous call (the first call: everyone joined).
struct GroupChange {
  /// Members that appeared, by id.
  std::vector<Member> joined;
  /// Ids of members that went.
  std::vector<std::string> departed;
  /// Every member now, by id.
  std::vector<Member> members;
};

/// Called (on a strand of the client's executor, one call at a time) with each change.
using GroupListener = std::function<void(const GroupChange&)>;

/// One member of the group at `path`, or an observer of it (watch() without join()).
class GroupMember {
 public:
  /// A member named `id` (the node PATH/<id>) that joins with `data`.
  GroupMember(client::Client& client, std::string path, std::string id, std::string data = "");
  /// Stops watching and leaves the group (without waiting).
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  /// Joins: creates this member's ephemeral node (and missing parents, as containers).
  /// ZNODEEXISTS when another session is a member with this id.
  template <typename Token>
  auto join(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { join_impl(std::move(done)); });
  }
  /// Leaves: removes this member's node. Succeeds when not a member.
  template <typename Token>
  auto leave(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { leave_impl(std::move(done)); });
  }
  /// The group's members now, by id.
  template <typename Token>
  auto members(Token&& token) {
    return members(client_, path_, std::forward<Token>(token));
  }
  /// The members of the group at `path`, by id (none when the group does not exist).
  template <typename Token>
  static auto members(client::Client& client, std::string path, Token&& token) {
    return detail::initiate<std::vector<Member>>(
        client.executor(), token,
        [&client, path = std::move(path)](Done<std::vector<Member>> done) {
          members_impl(client, path, std::move(done));
        });
  }
  /// Calls `listener` with the members now, then with every change until the object goes
  /// or the session is lost. Changes that come quickly may arrive as one. A second call
  /// replaces the listener (the new one hears of changes from then on).
  void watch(GroupListener listener);
  /// True while this member's node is known to exist (false once the session is lost).
  bool joined() const;
  /// This member's id.
  const std::string& id() const { return id_; }
  /// The group's path.
  const std::string& path() const { return path_; }

 private:
  asio::any_io_executor executor() const { return client_.executor(); }
  void join_impl(Done<void> done);
  void leave_impl(Done<void> done);
  static void members_impl(client::Client& client, std::string path,
                           Done<std::vector<Member>> done);

  client::Client& client_;
  std::string path_, id_;
  std::shared_ptr<detail::GroupCore> core_;
};

}  // namespace corral::recipes
