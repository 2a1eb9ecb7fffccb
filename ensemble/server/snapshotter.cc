#include "ensemble/server/snapshotter.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <chrono>

namespace corral::server {
namespace {

// Nodes encoded per turn of the event loop: about a millisecond of work.
constexpr size_t kChunkNodes = 2000;

}  // namespace

Snapshotter::Snapshotter(asio::io_context& io, ServerCore& core, storage::StorageThread& storage)
    : io_(io), core_(core), storage_(storage) {}

void Snapshotter::maybe_start() {
  if (core_.replication() && !core_.replication()->serving()) return;
  if (!running_ && core_.txns_since_snapshot() >= core_.config().snap_count) start();
}

void Snapshotter::start() {
  if (running_) return;
  running_ = true;
  started_ = std::chrono::steady_clock::now();
  core_.snapshot_started();
  node_count_ = 0;
  generation_ = core_.state_generation();
  int64_t start_zxid = core_.tree().last_zxid();
  std::vector<storage::SessionRow> sessions;
  for (const auto& [id, s] : core_.sessions().sessions())
    sessions.push_back({id, s.timeout_ms, s.passwd});
  snapshot_id_ = std::make_shared<int64_t>(0);
  storage_.run([id = snapshot_id_, start_zxid,
                sessions](storage::Database& db) { *id = db.begin_snapshot(start_zxid, sessions); },
               nullptr);
  walk_.restart();
  spdlog::info("snapshot started at zxid 0x{:x}", start_zxid);
  step();
}

void Snapshotter::step() {
  if (core_.state_generation() != generation_) {
    // The tree was replaced (TRUNC or SNAP) mid-walk: this snapshot stays incomplete
    // and is dropped at the next recovery.
    spdlog::info("snapshot abandoned: the state was replaced");
    running_ = false;
    return;
  }
  std::vector<storage::SnapshotRow> rows;
  walk_.next(core_.tree(), kChunkNodes, rows);
  node_count_ += static_cast<int64_t>(rows.size());
  if (!rows.empty())
    storage_.run([id = snapshot_id_, rows = std::move(rows)](
                     storage::Database& db) { db.add_snapshot_nodes(*id, rows); },
                 nullptr);
  if (walk_.done()) return finish();
  asio::post(io_, [this] { step(); });
}

void Snapshotter::finish() {
  int64_t end_zxid = core_.tree().last_zxid();
  int64_t count = node_count_;
  int retain = core_.config().autopurge_purge_interval_hours > 0
                   ? core_.config().autopurge_snap_retain_count
                   : 0;
  storage_.run(
      [id = snapshot_id_, end_zxid, count, retain](storage::Database& db) {
        db.finish_snapshot(*id, end_zxid, count, retain);
      },
      [this, count, end_zxid] {
        running_ = false;
        ++completed_;
        last_zxid_ = end_zxid;
        last_time_s_ = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
        core_.stats().snapshot_ms.add(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count());
        spdlog::info("snapshot of {} nodes done (fuzzy up to zxid 0x{:x})", count, end_zxid);
      });
}

}  // namespace corral::server
