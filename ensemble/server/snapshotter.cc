#include "ensemble/server/snapshotter.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <chrono>

#include "ensemble/storage/snapshot_chunk.h"

namespace corral::server {
Snapshotter::Snapshotter(asio::io_context& io, ServerCore& core, storage::StorageThread& storage)
    : io_(io), core_(core), storage_(storage) {
  core_.set_tree_change_listener([this](std::string_view path) { snapshots_.changed(path); });
}

Snapshotter::~Snapshotter() { core_.set_tree_change_listener(nullptr); }

void Snapshotter::maybe_start() {
  if (core_.replication() && !core_.replication()->serving()) return;
  // A purge that a stop cut short goes on once the server serves (a learner's sync may first
  // replace what it holds), not only once the next snapshot finishes: that may be long in
  // coming, or never on a quiet ensemble.
  if (!purge_resumed_ && core_.config().autopurge_purge_interval_hours > 0) purge_log();
  purge_resumed_ = true;
  if (!running_ && core_.txns_since_snapshot() >= core_.config().snap_count) start();
}

void Snapshotter::start() {
  if (running_) return;
  running_ = true;
  started_ = std::chrono::steady_clock::now();
  core_.snapshot_started();
  node_count_ = 0;
  reused_nodes_ = 0;
  // The state was replaced since the last snapshot began (which then ended abandoned, or
  // complete if it finished first): the chunks its runs name may be gone.
  if (core_.state_generation() != generation_) snapshots_.forget();
  generation_ = core_.state_generation();
  int64_t start_zxid = core_.tree().last_zxid();
  std::vector<storage::SessionRow> sessions;
  for (const auto& [id, s] : core_.sessions().sessions())
    sessions.push_back({id, s.timeout_ms, s.passwd});
  snapshot_id_ = std::make_shared<int64_t>(0);
  storage_.run([id = snapshot_id_, start_zxid,
                sessions](storage::Database& db) { *id = db.begin_snapshot(start_zxid, sessions); },
               nullptr);
  snapshots_.begin();
  spdlog::info("snapshot started at zxid 0x{:x}", start_zxid);
  step();
}

bool Snapshotter::abandoned() {
  if (core_.state_generation() == generation_) return false;
  // The tree was replaced (TRUNC or SNAP) mid-walk: this snapshot stays incomplete and is
  // dropped at the next recovery.
  spdlog::info("snapshot abandoned: the state was replaced");
  running_ = false;
  return true;
}

void Snapshotter::step() {
  if (abandoned()) return;
  // A job is up to kStepsPerJob steps, each a run of nodes (snapshot_chunk.h: about
  // kNodesPerRun, at most kMaxRunNodes: a tenth of a millisecond to walk and encode, a few to
  // write when it changed) or the runs reused from the last snapshot that follow, a row each
  // chunk; one SQLite transaction, so one fsync, for them all. A txn logged meanwhile may wait
  // behind one job.
  auto steps = snapshots_.next_job(core_.tree(), kStepsPerJob);
  for (const auto& next : steps) {
    node_count_ += static_cast<int64_t>(next->node_count());
    reused_nodes_ += static_cast<int64_t>(next->reused_nodes);
  }
  const bool done = snapshots_.done();
  if (steps.empty()) return done ? finish() : asio::post(io_, [this] { step(); });
  // The next runs are walked only once these are written. The storage thread logs txns
  // too, in order with these jobs: a walk that ran ahead queued the whole tree in front of
  // them (with 1,000,000 znodes, writes waited up to 3 s while a snapshot was taken).
  storage_.run([id = snapshot_id_, steps = std::move(steps)](
                   storage::Database& db) { db.add_snapshot_steps(*id, steps); },
               [this, done] { done ? finish() : step(); });
}

void Snapshotter::finish() {
  if (abandoned()) return;
  int64_t end_zxid = core_.tree().last_zxid();
  int64_t count = node_count_;
  int64_t reused = reused_nodes_;
  int retain = core_.config().autopurge_purge_interval_hours > 0
                   ? core_.config().autopurge_snap_retain_count
                   : 0;
  auto log_left = std::make_shared<bool>(false);
  storage_.run(
      [id = snapshot_id_, end_zxid, count, retain, log_left](storage::Database& db) {
        *log_left = db.finish_snapshot(*id, end_zxid, count, retain);
      },
      [this, count, reused, end_zxid, log_left] {
        if (*log_left) purge_log();
        // A SNAP or TRUNC whose storage ran before this job deleted the snapshot: it
        // counts for nothing.
        if (abandoned()) return;
        running_ = false;
        snapshots_.complete();
        ++completed_;
        last_zxid_ = end_zxid;
        last_time_s_ = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
        core_.stats().snapshot_ms.add(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count());
        spdlog::info(
            "snapshot of {} nodes done, {} of them in runs reused from the last (fuzzy "
            "up to zxid 0x{:x})",
            count, reused, end_zxid);
      });
}

void Snapshotter::purge_log() {
  // A batch a job: the txns logged meanwhile are written between two batches, not after all.
  auto more = std::make_shared<bool>(false);
  storage_.run([more](storage::Database& db) { *more = db.purge_log_batch(); },
               [this, more] {
                 if (*more) purge_log();
               });
}

}  // namespace corral::server
