#include "ensemble/server/admin/admin_stats.h"

#include <spdlog/fmt/fmt.h>

#include "ensemble/ops/histogram.h"
#include "ensemble/server/four_letter_words.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshotter.h"

namespace corral::server {
namespace {

using nlohmann::json;

// ZooKeeper's fsync.warningthresholdms default: fsyncs slower than this are counted.
constexpr double kFsyncWarningMs = 1000;

double avg_latency(const ServerStats& s) {
  return s.requests_completed ? double(s.total_latency_ms) / double(s.requests_completed) : 0;
}

uint64_t slow_fsyncs(const ops::Histogram& h) {
  for (size_t i = 0; i < h.buckets(); ++i)
    if (h.bound(i) >= kFsyncWarningMs) return h.count() - h.cumulative(i);
  return 0;
}

json client_response(const ServerStats& s) {
  return {{"last_buffer_size", s.last_response_bytes},
          {"min_buffer_size", s.min_response_bytes},
          {"max_buffer_size", s.max_response_bytes}};
}

json connection(const ClientLink& c, bool detailed) {
  json out = {{"remote_socket_address", c.endpoint},
              {"outstanding_requests", c.request_started_ms.size()},
              {"packets_received", c.packets_received},
              {"packets_sent", c.packets_sent}};
  if (!detailed || c.session_id == 0) return out;
  out["session_id"] = c.session_id;
  out["last_operation"] = c.last_op;
  out["established"] = c.established_ms;
  out["session_timeout"] = c.session_timeout_ms;
  out["last_cxid"] = c.last_cxid;
  out["last_zxid"] = c.last_zxid;
  out["last_response_time"] = c.last_response_ms;
  out["last_latency"] = c.last_latency_ms;
  out["min_latency"] = c.min_latency_ms < 0 ? 0 : c.min_latency_ms;
  out["avg_latency"] =
      c.requests_completed ? c.total_latency_ms / int64_t(c.requests_completed) : int64_t{0};
  out["max_latency"] = c.max_latency_ms;
  return out;
}

void put_summary(json& out, const std::string& name, const ops::Histogram& h, bool advanced) {
  out["avg_" + name] = h.count() ? h.sum() / double(h.count()) : 0.0;
  out["min_" + name] = static_cast<int64_t>(h.min());
  out["max_" + name] = static_cast<int64_t>(h.max());
  out["cnt_" + name] = h.count();
  out["sum_" + name] = static_cast<int64_t>(h.sum());
  if (!advanced) return;
  for (auto [key, q] : {std::pair{"p50_", 0.5}, {"p95_", 0.95}, {"p99_", 0.99}, {"p999_", 0.999}})
    out[key + name] = static_cast<int64_t>(h.quantile(q));
}

}  // namespace

json server_stats_json(const OpsView& v, bool with_connections) {
  const ServerStats& s = v.core.stats();
  const ServerConfig& c = v.core.config();
  json stats = {
      {"packets_sent", s.packets_sent},
      {"packets_received", s.packets_received},
      {"fsync_threshold_exceed_count", slow_fsyncs(s.fsync_ms)},
      {"client_response_stats", client_response(s)},
      {"data_dir_size", directory_size(c.data_dir)},
      {"log_dir_size", directory_size(c.data_log_dir.empty() ? c.data_dir : c.data_log_dir)},
      {"provider_null", false},
      {"server_state", server_mode(v.core)},
      {"last_processed_zxid", v.core.last_zxid()},
      {"outstanding_requests", v.core.outstanding_requests()},
      {"avg_latency", avg_latency(s)},
      {"max_latency", s.max_latency_ms},
      {"min_latency", s.min_latency_ms < 0 ? 0 : s.min_latency_ms},
      {"num_alive_client_connections", v.core.links().size()},
      {"uptime", uptime_ms(v)}};
  json out = {{"version", server_version()},
              {"read_only", v.core.replication() && v.core.replication()->read_only()},
              {"server_stats", stats},
              {"client_response", client_response(s)},
              {"node_count", v.core.tree().node_count()}};
  if (with_connections) {
    json cons = connections_json(v, false);
    out["connections"] = cons["connections"];
    out["secure_connections"] = cons["secure_connections"];
  }
  return out;
}

json connections_json(const OpsView& v, bool detailed) {
  json all = json::array();
  for (const auto& [id, link] : v.core.links()) all.push_back(connection(*link, detailed));
  // Corral serves TLS and plain clients through one connection type that does not record
  // which it is: every connection is listed under "connections".
  return {{"connections", all}, {"secure_connections", json::array()}};
}

json monitor_json(const OpsView& v) {
  const ServerCore& core = v.core;
  const ServerStats& s = v.core.stats();
  size_t ephemerals = 0;
  for (const auto& [session, n] : core.tree().ephemeral_counts()) ephemerals += n;
  json out = {{"version", server_version()},
              {"server_state", server_mode(core)},
              {"avg_latency", avg_latency(s)},
              {"max_latency", s.max_latency_ms},
              {"min_latency", s.min_latency_ms < 0 ? 0 : s.min_latency_ms},
              {"packets_received", s.packets_received},
              {"packets_sent", s.packets_sent},
              {"num_alive_connections", core.links().size()},
              {"outstanding_requests", core.outstanding_requests()},
              {"uptime", uptime_ms(v)},
              {"znode_count", core.tree().node_count()},
              {"watch_count", core.watches().watch_count()},
              {"ephemerals_count", ephemerals},
              {"approximate_data_size", core.tree().data_bytes()},
              {"global_sessions", core.sessions().sessions().size()},
              {"last_client_response_size", s.last_response_bytes},
              {"max_client_response_size", s.max_response_bytes},
              {"min_client_response_size", s.min_response_bytes},
              {"connection_rejected", s.connections_rejected}};
  if (int64_t open = open_file_descriptors(); open >= 0) out["open_file_descriptor_count"] = open;
  if (int64_t max = max_file_descriptors(); max >= 0) out["max_file_descriptor_count"] = max;
  if (const Replication* r = core.replication()) {
    out["quorum_size"] = voting_members(core);
    if (r->leads()) out["synced_followers"] = r->synced_followers();
  }
  put_summary(out, "readlatency", s.read_latency_ms, true);
  put_summary(out, "updatelatency", s.update_latency_ms, true);
  put_summary(out, "fsynctime", s.fsync_ms, false);
  put_summary(out, "sync_processor_batch_size", s.commit_batch_txns, false);
  put_summary(out, "snapshottime", s.snapshot_ms, false);
  return out;
}

json last_snapshot_json(const OpsView& v) {
  int64_t zxid = v.snapshotter.last_zxid();
  return {{"zxid", fmt::format("{:x}", static_cast<uint64_t>(zxid))},
          {"timestamp", v.snapshotter.last_time_s()}};
}

json zabstate_json(const OpsView& v) {
  const Replication* r = v.core.replication();
  if (!r) return {{"voting", false}, {"zabstate", ""}};
  const ServerConfig& c = v.core.config();
  json out = {{"myid", c.my_id}, {"is_leader", r->leads()}};
  for (const auto& s : c.servers) {
    if (s.id != c.my_id) continue;
    out["quorum_address"] = s.host + ":" + std::to_string(s.quorum_port);
    out["election_address"] = s.host + ":" + std::to_string(s.election_port);
    out["client_address"] = c.client_port_address + ":" + std::to_string(c.client_port);
    out["voting"] = !s.observer;
  }
  int64_t zxid = v.core.last_zxid();
  out["last_zxid"] = fmt::format("0x{:x}", zxid);
  out["zab_epoch"] = zxid >> 32;
  out["zab_counter"] = zxid & 0xffffffff;
  // ZooKeeper's phases: election, discovery, synchronization, broadcast.
  std::string mode = r->mode();
  out["zabstate"] = r->serving() ? "broadcast" : mode == "looking" ? "election" : "synchronization";
  return out;
}

}  // namespace corral::server
