// The AdminServer's larger answers: server statistics, connections, monitor (ZooKeeper's mntr
// as JSON), the newest snapshot and the ZAB state, with ZooKeeper 3.8's field names.
#pragma once

#include <nlohmann/json.hpp>

#include "ensemble/server/admin/ops_view.h"

namespace corral::server {

/// server_stats (srvr); with `with_connections`, stats (stat).
nlohmann::json server_stats_json(const OpsView& view, bool with_connections);
/// connections (cons); `detailed` adds each session's figures.
nlohmann::json connections_json(const OpsView& view, bool detailed);
/// monitor (mntr): the ZooKeeper-named metrics, summaries as avg_/min_/max_/cnt_/sum_ keys.
nlohmann::json monitor_json(const OpsView& view);
/// last_snapshot (lsnp): the newest snapshot taken since start-up.
nlohmann::json last_snapshot_json(const OpsView& view);
/// zabstate: this member's addresses, its last zxid and where it is in ZAB.
nlohmann::json zabstate_json(const OpsView& view);

}  // namespace corral::server
