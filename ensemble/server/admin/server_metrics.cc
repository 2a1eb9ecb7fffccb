#include "ensemble/server/admin/server_metrics.h"

#include "ensemble/ops/allocator_stats.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshotter.h"
#include "ensemble/storage/storage_thread.h"

namespace corral::server {
namespace {

void add_zookeeper_gauges(const OpsView& view, ops::MetricSet& m) {
  const ServerCore& core = view.core;
  const ServerStats& s = view.core.stats();
  double avg = s.requests_completed
                   ? static_cast<double>(s.total_latency_ms) / double(s.requests_completed)
                   : 0;
  m.gauge("avg_latency", "Average request latency since the last stat reset, ms", avg);
  m.gauge("max_latency", "Largest request latency since the last stat reset, ms",
          double(s.max_latency_ms));
  m.gauge("min_latency", "Smallest request latency since the last stat reset, ms",
          double(s.min_latency_ms < 0 ? 0 : s.min_latency_ms));
  m.gauge("packets_received", "Client packets received", double(s.packets_received));
  m.gauge("packets_sent", "Client packets sent (replies and watch events)", double(s.packets_sent));
  m.gauge("num_alive_connections", "Open client connections", double(core.links().size()));
  m.gauge("outstanding_requests", "Client requests received and not yet answered",
          double(core.outstanding_requests()));
  m.gauge("uptime", "Milliseconds since the server started", double(uptime_ms(view)));
  m.gauge("znode_count", "Znodes in the data tree", double(core.tree().node_count()));
  m.gauge("watch_count", "Watches set (path, connection pairs)",
          double(core.watches().watch_count()));
  size_t ephemerals = 0;
  for (const auto& [session, n] : core.tree().ephemeral_counts()) ephemerals += n;
  m.gauge("ephemerals_count", "Ephemeral znodes", double(ephemerals));
  m.gauge("approximate_data_size", "Bytes of znode data and paths in the tree",
          double(core.tree().data_bytes()));
  m.gauge("global_sessions", "Live sessions", double(core.sessions().sessions().size()));
  if (int64_t open = open_file_descriptors(); open >= 0)
    m.gauge("open_file_descriptor_count", "Open file descriptors of the process", double(open));
  if (int64_t max = max_file_descriptors(); max >= 0)
    m.gauge("max_file_descriptor_count", "The process' limit on open file descriptors",
            double(max));
  m.gauge("last_client_response_size", "Bytes of the last reply (header and body); -1 before one",
          double(s.last_response_bytes));
  m.gauge("max_client_response_size", "Bytes of the largest reply; -1 before one",
          double(s.max_response_bytes));
  m.gauge("min_client_response_size", "Bytes of the smallest reply; -1 before one",
          double(s.min_response_bytes));
}

void add_ensemble_gauges(const OpsView& view, ops::MetricSet& m) {
  const Replication* r = view.core.replication();
  if (!r) return;
  m.gauge("quorum_size", "Voting members of the ensemble", double(voting_members(view.core)));
  if (r->leads()) {
    m.gauge("synced_followers", "Followers synced with this leader and acknowledging",
            double(r->synced_followers()));
    m.gauge("synced_observers", "Observers synced with this leader", double(r->synced_observers()));
    m.gauge("learners", "Followers and observers connected to this leader", double(r->learners()));
    m.gauge("leader_uptime", "Milliseconds this server has led", double(r->serving_ms()));
  }
  m.summary("election_time", "Duration of an election, from looking to a role, ms",
            view.core.stats().election_ms, ops::kBasicQuantiles);
}

void add_zookeeper_summaries(const OpsView& view, ops::MetricSet& m) {
  const ServerStats& s = view.core.stats();
  m.summary("readlatency", "Latency of reads (requests that log no txn), ms", s.read_latency_ms,
            ops::kAdvancedQuantiles);
  m.summary("updatelatency", "Latency of writes, from arrival to answer, ms", s.update_latency_ms,
            ops::kAdvancedQuantiles);
  m.summary("fsynctime", "Duration of a txn log group commit (SQLite COMMIT with its fsync), ms",
            s.fsync_ms, ops::kBasicQuantiles);
  m.summary("sync_processor_batch_size", "Txns per txn log group commit", s.commit_batch_txns,
            ops::kBasicQuantiles);
  m.summary("snapshottime", "Duration of a snapshot, ms", s.snapshot_ms, ops::kBasicQuantiles);
  m.counter("connection_rejected", "Client connections refused (maxClientCnxns and limits)",
            double(s.connections_rejected));
}

void add_corral_metrics(const OpsView& view, ops::MetricSet& m) {
  const ServerStats& s = view.core.stats();
  m.histogram("corral_txn_log_commit_seconds",
              "Duration of a txn log group commit (SQLite COMMIT with its fsync)", s.fsync_ms,
              0.001);
  m.histogram("corral_group_commit_batch_size", "Txns per txn log group commit",
              s.commit_batch_txns);
  m.counter("corral_txn_log_batches_total", "Txn log group commits since start",
            double(view.storage.batches()));
  m.counter("corral_txn_log_txns_total", "Txns appended to the txn log since start",
            double(view.storage.appended()));
  m.gauge("corral_global_outstanding_requests",
          "Requests held behind writes, in the txn log or proposed and not answered "
          "(what globalOutstandingLimit bounds)",
          double(view.core.global_outstanding()));
  m.gauge("corral_last_zxid", "The last zxid applied to the data tree",
          double(view.core.last_zxid()));
  m.gauge("corral_watched_paths", "Distinct paths with at least one watch",
          double(view.core.watches().path_count()));
  m.counter("corral_snapshots_total", "Snapshots completed since start",
            double(view.snapshotter.completed()));
  m.gauge("corral_txns_since_snapshot", "Txns applied since the last snapshot began",
          double(view.core.txns_since_snapshot()));
  if (auto memory = ops::allocator_stats()) {
    m.gauge("corral_allocator_allocated_bytes", "Bytes of live allocations (jemalloc)",
            double(memory->allocated));
    m.gauge("corral_allocator_resident_bytes",
            "Bytes of physical memory held by the allocator's pages (jemalloc)",
            double(memory->resident));
  }
}

}  // namespace

ops::MetricSet collect_metrics(const OpsView& view) {
  ops::MetricSet m;
  add_zookeeper_gauges(view, m);
  add_ensemble_gauges(view, m);
  add_zookeeper_summaries(view, m);
  add_corral_metrics(view, m);
  return m;
}

}  // namespace corral::server
