#include "corral/recipes/group_member.h"

#include <algorithm>
#include <atomic>
#include <map>

#include "corral/recipes/node_names.h"
#include "listener_slot.h"
#include "paths.h"
#include "waiting_core.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;
using client::CreateMode;

namespace {

/// The data of each of `ids` under `path`, by id; members gone meanwhile are left out.
awaitable<Result<std::vector<Member>>> read_members(Client& client, std::string path,
                                                    std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  std::vector<Member> out;
  for (auto& id : ids) {
    auto got =
        co_await retrying([&] { return client.get(join_path(path, id), nullptr, use_awaitable); });
    if (got.error() == ErrorCode::kNoNode) continue;
    if (!got) co_return got.error();
    out.push_back({std::move(id), std::move(got->data)});
  }
  co_return out;
}

awaitable<Result<std::vector<Member>>> list_members(Client& client, std::string path) {
  auto listed = co_await retrying([&] { return client.children(path, nullptr, use_awaitable); });
  if (listed.error() == ErrorCode::kNoNode) co_return std::vector<Member>{};
  if (!listed) co_return listed.error();
  co_return co_await read_members(client, path, std::move(listed->children));
}

}  // namespace

/// The member's node and the watch loop, on a strand of the client's executor.
class GroupCore : public WaitingCore, public std::enable_shared_from_this<GroupCore> {
 public:
  GroupCore(Client& client, std::string path, std::string id, std::string data)
      : WaitingCore(client),
        path(std::move(path)),
        node(join_path(this->path, id)),
        data(std::move(data)) {}

  void start() { watch_session(shared_from_this()); }

  void on_session_lost() override { joined = false; }

  /// Stops the watch loop; once it returns no listener call is under way or will start.
  void stop() {
    listener.clear();
    asio::post(strand, [self = shared_from_this()] {
      self->stopped = true;
      self->wake->notify();
    });
  }

  awaitable<ErrorCode> leave() {
    auto r = co_await retrying([&] { return client.remove(node, -1, use_awaitable); });
    // ZNONODE: not a member, or a retried delete whose first attempt went through.
    if (r.ok() || r.error() == ErrorCode::kNoNode) {
      joined = false;
      co_return ErrorCode::kOk;
    }
    co_return r.error();
  }

  /// Lists the members with a child watch, reports what changed, waits for the watch.
  awaitable<Result<void>> watch_loop() {
    std::map<std::string, std::string> known;
    bool first = true;
    while (!stopped && !lost) {
      const uint64_t seen = wake->generation();
      auto listed =
          co_await retrying([&] { return client.children(path, wake->watcher(), use_awaitable); });
      if (listed.error() == ErrorCode::kNoNode) {
        // No group yet: wait for its creation instead.
        auto there =
            co_await retrying([&] { return client.exists(path, wake->watcher(), use_awaitable); });
        if (there.ok()) continue;
      } else if (!listed) {
        if (session_gone(listed.error())) break;
        co_await sleep_for(std::chrono::milliseconds(200));  // the ensemble is recovering
        continue;
      }
      auto change = co_await diff(known, listed->children);
      if (!change) continue;  // a read failed: list again
      if (!stopped && (first || !change->joined.empty() || !change->departed.empty()))
        listener.call(*change);
      first = false;
      co_await wake->wait(seen, Clock::time_point::max());
    }
    co_return ErrorCode::kOk;
  }

  /// What changed between `known` and `names` (reading the new members' data); updates
  /// `known`.
  awaitable<Result<GroupChange>> diff(std::map<std::string, std::string>& known,
                                      const std::vector<std::string>& names) {
    GroupChange change;
    std::vector<std::string> fresh;
    for (const auto& n : names)
      if (!known.count(n)) fresh.push_back(n);
    auto added = co_await read_members(client, path, fresh);
    if (!added) co_return added.error();
    for (auto it = known.begin(); it != known.end();) {
      if (std::find(names.begin(), names.end(), it->first) != names.end()) {
        ++it;
        continue;
      }
      change.departed.push_back(it->first);
      it = known.erase(it);
    }
    for (const auto& m : *added) known[m.id] = m.data;
    change.joined = std::move(*added);
    for (const auto& [id, d] : known) change.members.push_back({id, d});
    co_return change;
  }

  const std::string path, node, data;
  std::atomic<bool> joined{false};
  // On the strand.
  ListenerSlot<const GroupChange&> listener;
  bool watching = false, stopped = false;
};

}  // namespace detail

using detail::awaitable;
using detail::GroupCore;

GroupMember::GroupMember(client::Client& client, std::string path, std::string id, std::string data)
    : client_(client), path_(std::move(path)), id_(std::move(id)) {
  core_ = std::make_shared<GroupCore>(client, path_, id_, std::move(data));
  core_->start();
}

GroupMember::~GroupMember() {
  core_->stop();
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<GroupCore> core) -> awaitable<Result<void>> {
        if (!core->joined || core->lost) co_return ErrorCode::kOk;
        co_return co_await core->leave();
      }(core_),
      [](Result<void>) {});
}

void GroupMember::join_impl(Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<GroupCore> core) -> awaitable<Result<void>> {
        if (core->lost) co_return ErrorCode::kSessionExpired;
        auto made = co_await detail::create_own_ephemeral(core->client, core->node, core->data);
        if (made == ErrorCode::kOk) core->joined = true;
        co_return made;
      }(core_),
      std::move(done));
}

void GroupMember::leave_impl(Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<GroupCore> core) -> awaitable<Result<void>> {
        co_return co_await core->leave();
      }(core_),
      std::move(done));
}

void GroupMember::members_impl(client::Client& client, std::string path,
                               Done<std::vector<Member>> done) {
  detail::spawn<std::vector<Member>>(asio::make_strand(client.executor()),
                                     detail::list_members(client, std::move(path)),
                                     std::move(done));
}

void GroupMember::watch(GroupListener listener) {
  core_->listener.set(std::move(listener));
  asio::post(core_->strand, [core = core_]() mutable {
    if (core->watching) return;
    core->watching = true;
    detail::spawn<void>(
        core->strand,
        [](std::shared_ptr<GroupCore> c) -> awaitable<Result<void>> {
          co_return co_await c->watch_loop();
        }(core),
        [](Result<void>) {});
  });
}

bool GroupMember::joined() const { return core_->joined; }

}  // namespace corral::recipes
