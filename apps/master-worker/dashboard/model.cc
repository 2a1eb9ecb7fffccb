#include "apps/master-worker/dashboard/model.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <future>

#include "apps/master-worker/dashboard/model_impl.h"
#include "apps/master-worker/layout.h"
#include "corral/recipes/node_names.h"

namespace corral::mw {
namespace {

using client::ConnectionState;
using client::ErrorCode;
using recipes::TreeCacheEventKind;
using namespace std::chrono_literals;

/// The caches, in this order: root and depth.
struct CachedRoot {
  std::string_view path;
  int max_depth;
};
constexpr CachedRoot kRoots[] = {
    {kMasterPath, 1}, {kWorkersPath, 1}, {kTasksPath, 1}, {kAssignPath, 2}, {kStatusPath, 1}};
enum Root : size_t { kMaster, kWorkers, kTasks, kAssign, kStatus };

constexpr auto kSummaryInterval = 500ms;
constexpr auto kRescanInterval = 2000ms;

/// The names below `root` in `path` ("/assign/w1/task-1" -> {"w1", "task-1"}).
std::vector<std::string> names_below(std::string_view root, const std::string& path) {
  std::vector<std::string> names;
  size_t at = root.size();
  while (at < path.size()) {
    size_t next = path.find('/', at + 1);
    names.push_back(
        path.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next == std::string::npos ? path.size() : next;
  }
  return names;
}

/// Applies one cache event to the raw tree.
void apply(RawTree& raw, size_t which, const recipes::TreeCacheEvent& e) {
  auto names = names_below(kRoots[which].path, e.path);
  bool removed = e.kind == TreeCacheEventKind::kNodeRemoved;
  if (names.empty()) return;
  const std::string& first = names[0];
  switch (which) {
    case kWorkers:
      if (removed)
        raw.workers.erase(first);
      else
        raw.workers[first] = e.node.data;
      break;
    case kTasks:
      if (!valid_task_id(first)) break;
      if (removed)
        raw.tasks.erase(first);
      else
        raw.tasks[first] = e.node.data;
      break;
    case kAssign:
      if (names.size() == 1) {
        if (removed)
          raw.assign.erase(first);
        else
          raw.assign.try_emplace(first);
      } else if (valid_task_id(names[1])) {
        if (removed)
          raw.assign[first].erase(names[1]);
        else
          raw.assign[first][names[1]] = e.node.data;
      }
      break;
    case kStatus:
      if (!valid_task_id(first)) break;
      if (removed)
        raw.status.erase(first);
      else
        raw.status[first] = {e.node.data, e.node.stat.version};
      break;
    default:
      break;
  }
}

}  // namespace

nlohmann::json summary_json(const View& view, const History& history) {
  std::map<std::string, int64_t> counts;
  for (const char* s : kTaskStates) counts[s] = 0;
  int64_t reassigned = 0, ran_twice = 0;
  for (const auto& [id, t] : view.tasks) {
    // An archived task whose /status is not deleted yet is counted once, from the history.
    if (is_finished_state(t.state) && history.contains(id)) continue;
    ++counts[t.state];
    reassigned += t.reassignments();
    ran_twice += t.ran_twice() ? 1 : 0;
  }
  auto totals = history.totals();
  counts["done"] += totals.done;
  counts["failed"] += totals.failed;
  nlohmann::json tasks = nlohmann::json::object();
  for (const char* s : kTaskStates) tasks[s] = counts[s];
  return {{"master", view.master ? nlohmann::json(*view.master) : nlohmann::json()},
          {"backups", view.backups},
          {"workers", view.workers.size()},
          {"tasks", tasks},
          {"reassigned", reassigned + totals.reassigned},
          {"ran_twice", ran_twice + totals.ran_twice}};
}

Model::Model(std::string connect_string, History& history, EventHub& hub,
             std::chrono::milliseconds session_timeout)
    : impl_(std::make_unique<Impl>(std::move(connect_string), history, hub, session_timeout)) {}

Model::~Model() { stop(); }

void Model::start() {
  Impl* m = impl_.get();
  asio::post(m->io, [m] {
    m->connect();
    m->rescan();
  });
  m->thread = std::thread([m] { m->io.run(); });
}

void Model::stop() {
  Impl* m = impl_.get();
  if (!m->thread.joinable()) return;
  auto closed = std::make_shared<std::promise<void>>();
  asio::post(m->io, [m, closed] {
    m->stopping = true;
    m->summary_timer.cancel();
    m->rescan_timer.cancel();
    auto s = std::move(m->session);
    if (!s) return closed->set_value();
    for (auto& cache : s->caches) cache->close();
    s->client->close([s, closed](client::Result<void>) { closed->set_value(); });
  });
  closed->get_future().wait_for(2s);
  m->work.reset();
  m->io.stop();
  m->thread.join();
}

std::shared_ptr<const View> Model::view() const { return impl_->current_view(); }

nlohmann::json Model::summary() const { return summary_json(*view(), impl_->history); }

bool Model::connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connected;
}

void Model::Impl::connect() {
  if (stopping) return;
  auto s = std::make_shared<Session>();
  s->generation = ++generation;
  client::Options options;
  options.connect_string = connect_string;
  options.session_timeout = session_timeout;
  s->client = std::make_unique<client::Client>(io.get_executor(), options);
  std::weak_ptr<Session> weak = s;
  s->state = s->client->subscribe_state([this, weak](ConnectionState state) {
    auto s = weak.lock();
    if (!s || s != session) return;
    spdlog::info("session {}: {}", s->generation, client::state_name(state));
    {
      std::lock_guard lock(mu);
      connected = state == ConnectionState::kConnected || state == ConnectionState::kReconnected;
    }
    if (state == ConnectionState::kLost) schedule_reconnect(s, 0ms);
  });
  for (size_t i = 0; i < std::size(kRoots); ++i) {
    recipes::TreeCacheOptions options;
    options.max_depth = kRoots[i].max_depth;
    auto cache =
        std::make_unique<recipes::TreeCache>(*s->client, std::string(kRoots[i].path), options);
    cache->on_event([this, weak, i](const recipes::TreeCacheEvent& e) {
      if (auto s = weak.lock()) on_cache_event(s, i, e);
    });
    s->caches.push_back(std::move(cache));
  }
  session = s;
  s->client->start();
  for (auto& cache : s->caches) {
    cache->start([this, weak, root = cache->root()](client::Result<void> r) {
      auto s = weak.lock();
      if (r.ok() || !s || s != session) return;
      spdlog::warn("cache of {} stopped: {}", root, client::error_text(r.error()));
      schedule_reconnect(s, 1000ms);
    });
  }
}

void Model::Impl::schedule_reconnect(const std::shared_ptr<Session>& from,
                                     std::chrono::milliseconds delay) {
  if (stopping || from != session || from->reconnecting) return;
  from->reconnecting = true;
  auto timer = std::make_shared<asio::steady_timer>(io, delay);
  timer->async_wait([this, timer, from](const std::error_code&) {
    if (stopping || from != session) return;
    spdlog::warn("session {} lost: starting a new session", from->generation);
    for (auto& cache : from->caches) cache->close();
    // The old client goes once closed (its callbacks hold it until then).
    from->client->close([from](client::Result<void>) {});
    session.reset();
    connect();
  });
}

void Model::Impl::on_cache_event(const std::shared_ptr<Session>& s, size_t which,
                                 const recipes::TreeCacheEvent& e) {
  if (s != session) return;
  switch (e.kind) {
    case TreeCacheEventKind::kInitialized:
      ++s->initialized;
      if (which == kMaster) list_masters(s);
      break;
    case TreeCacheEventKind::kLost:
      schedule_reconnect(s, 0ms);
      return;
    default:
      apply(s->raw, which, e);
      if (which == kMaster) list_masters(s);
  }
  schedule_recompute();
}

void Model::Impl::list_masters(const std::shared_ptr<Session>& s) {
  // The latch's contenders are in the /master cache already (ids as data): ordered by their
  // sequence numbers as LeaderLatch orders them, the first leads. No read of the server.
  const recipes::TreeCache& cache = *s->caches[kMaster];
  s->raw.masters.clear();
  s->raw.leader_ctime_ms = 0;
  for (const auto& name :
       recipes::ordered_by_sequence(cache.children(std::string(kMasterPath)), {"-latch-"})) {
    auto node = cache.get(std::string(kMasterPath) + "/" + name);
    if (!node) continue;
    if (s->raw.masters.empty()) s->raw.leader_ctime_ms = node->stat.ctime;
    s->raw.masters.push_back(node->data);
  }
}

void Model::Impl::schedule_recompute() {
  if (recompute_posted) return;
  recompute_posted = true;
  asio::post(io, [this] {
    recompute_posted = false;
    recompute();
  });
}

void Model::Impl::recompute() {
  auto s = session;
  if (!s || s->initialized < std::size(kRoots) || stopping) return;
  std::vector<std::string> skipped;
  auto next = std::make_shared<View>(build_view(s->raw, origins, &skipped));
  for (const auto& why : skipped) spdlog::debug("malformed node skipped: {}", why);
  auto before = current_view();
  next->master_since_ms = master_since(*before, *next, s->raw.leader_ctime_ms, now_ms());
  {
    std::lock_guard lock(mu);
    view = next;
  }
  // The first picture is the starting point, not a change.
  if (before->loaded) {
    for (auto& e : diff_views(*before, *next)) hub.publish(e.type, e.data);
  }
  for (auto it = archived_versions.begin(); it != archived_versions.end();)
    it = s->raw.status.count(it->first) ? std::next(it) : archived_versions.erase(it);
  publish_summary();
  archive_candidates();
}

void Model::Impl::publish_summary() {
  if (summary_timer_armed || stopping) return;
  auto summary = summary_json(*current_view(), history);
  if (summary == last_summary) return;
  auto since = std::chrono::steady_clock::now() - last_summary_at;
  if (since >= kSummaryInterval) {
    hub.publish("summary", summary);
    last_summary = summary;
    last_summary_at = std::chrono::steady_clock::now();
    return;
  }
  summary_timer_armed = true;
  summary_timer.expires_after(kSummaryInterval - since);
  summary_timer.async_wait([this](const std::error_code& ec) {
    summary_timer_armed = false;
    if (!ec) publish_summary();
  });
}

void Model::Impl::rescan() {
  // Archiving that failed (a connection loss, a change between the checks) is retried here
  // even when the caches report nothing new; so is a summary changed by the history only.
  archive_candidates();
  publish_summary();
  rescan_timer.expires_after(kRescanInterval);
  rescan_timer.async_wait([this](const std::error_code& ec) {
    if (!ec && !stopping) rescan();
  });
}

void Model::Impl::archive_candidates() {
  auto s = session;
  auto v = current_view();
  if (!s || stopping || s->initialized < std::size(kRoots)) return;
  for (const auto& [id, version] : v->archivable) {
    if (archiving.count(id)) continue;
    if (auto it = archived_versions.find(id);
        it != archived_versions.end() && it->second == version)
      continue;
    archiving.insert(id);
    asio::co_spawn(io, archive(s, v->tasks.at(id), version), asio::detached);
  }
}

}  // namespace corral::mw
