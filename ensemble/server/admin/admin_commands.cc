#include "ensemble/server/admin/admin_commands.h"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "ensemble/server/admin/admin_stats.h"
#include "ensemble/server/four_letter_words.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshotter.h"

namespace corral::server {
namespace {

using nlohmann::json;
using Run = std::function<json(const OpsView&)>;

struct Command {
  std::vector<std::string> names;  ///< The primary name first, then aliases.
  bool needs_serving = true;       ///< As ZooKeeper's serverRequired: refused outside a quorum.
  Run run;
};

json environment(const OpsView&) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  utsname u{};
  uname(&u);
  char cwd[4096] = {0};
  if (!getcwd(cwd, sizeof cwd - 1)) cwd[0] = '\0';
  const passwd* pw = getpwuid(geteuid());
  const char* user = pw ? pw->pw_name : nullptr;
  const char* home = pw ? pw->pw_dir : nullptr;
  return {{"zookeeper.version", server_version()},
          {"host.name", host},
          {"os.name", u.sysname},
          {"os.arch", u.machine},
          {"os.version", u.release},
          {"user.name", user ? user : ""},
          {"user.home", home ? home : ""},
          {"user.dir", cwd}};
}

json configuration(const OpsView& v) {
  const ServerConfig& c = v.core.config();
  return {{"client_port", c.client_port},
          {"data_dir", c.data_dir},
          {"data_log_dir", c.data_log_dir.empty() ? c.data_dir : c.data_log_dir},
          {"tick_time", c.tick_ms},
          {"max_client_cnxns", c.max_client_cnxns},
          {"min_session_timeout", c.effective_min_session_timeout_ms()},
          {"max_session_timeout", c.effective_max_session_timeout_ms()},
          {"server_id", c.my_id},
          {"client_port_listen_backlog", -1}};
}

json dirs(const OpsView& v) {
  const ServerConfig& c = v.core.config();
  return {{"datadir_size", directory_size(c.data_dir)},
          {"logdir_size", directory_size(c.data_log_dir.empty() ? c.data_dir : c.data_log_dir)}};
}

json dump(const OpsView& v) {
  json expiry = json::object();
  for (const auto& [id, s] : v.core.sessions().sessions())
    expiry[std::to_string(s.expires_at_ms)].push_back(id);
  json ephemerals = json::object();
  for (const auto& [id, n] : v.core.tree().ephemeral_counts())
    ephemerals[std::to_string(id)] = v.core.tree().ephemerals(id);
  return {{"expiry_time_to_session_ids", expiry}, {"session_id_to_ephemeral_paths", ephemerals}};
}

// Watches are kept per connection; ZooKeeper reports them per session.
int64_t session_of(const OpsView& v, uint64_t link_id) {
  auto it = v.core.links().find(link_id);
  return it == v.core.links().end() ? 0 : it->second->session_id;
}

json watches(const OpsView& v) {
  json out = json::object();
  for (const auto& [link, paths] : v.core.watches().by_watcher())
    out[std::to_string(session_of(v, link))] = paths;
  return {{"session_id_to_watched_paths", out}};
}

json watches_by_path(const OpsView& v) {
  std::map<std::string, std::vector<int64_t>> by_path;
  for (const auto& [link, paths] : v.core.watches().by_watcher())
    for (const auto& p : paths) by_path[p].push_back(session_of(v, link));
  return {{"path_to_session_ids", by_path}};
}

json watch_summary(const OpsView& v) {
  return {{"num_connections", v.core.watches().by_watcher().size()},
          {"num_paths", v.core.watches().path_count()},
          {"num_total_watches", v.core.watches().watch_count()}};
}

json leader(const OpsView& v) {
  const Replication* r = v.core.replication();
  if (!r) return {{"error", "server is not initialized"}};
  json out = {{"is_leader", r->leads()}, {"leader_id", r->leader_id()}, {"leader_ip", ""}};
  for (const auto& s : v.core.config().servers)
    if (s.id == r->leader_id()) out["leader_ip"] = s.host;
  return out;
}

json voting_view(const OpsView& v) {
  json view = json::object();
  if (!v.core.replication()) return {{"current_config", view}};
  for (const auto& s : v.core.config().servers) {
    view[std::to_string(s.id)] = {
        {"serverAddresses", {s.host + ":" + std::to_string(s.quorum_port)}},
        {"electionAddresses", {s.host + ":" + std::to_string(s.election_port)}},
        {"clientAddress",
         s.client_port ? s.client_address + ":" + std::to_string(s.client_port) : ""},
        {"learnerType", s.observer ? "observer" : "participant"}};
  }
  return {{"current_config", view}};
}

// A standalone server has no observers. An ensemble member's are not reported: the ensemble
// driver does not expose its learners (yet), so it says so instead of guessing.
json observers(const OpsView& v) {
  if (v.core.replication()) return {{"error", "Corral does not report observers yet"}};
  return {{"synced_observers", 0}, {"observers", json::array()}};
}

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {{"configuration", "conf", "config"}, true, configuration},
      {{"connection_stat_reset", "crst"},
       true,
       [](const OpsView& v) {
         v.network.reset_connection_stats();
         return json::object();
       }},
      {{"connections", "cons"}, true, [](const OpsView& v) { return connections_json(v, true); }},
      {{"dirs"}, true, dirs},
      {{"dump"}, true, dump},
      {{"environment", "env", "envi"}, false, environment},
      {{"initial_configuration", "icfg"},
       true,
       [](const OpsView& v) {
         return json{{"initial_configuration", v.initial_configuration}};
       }},
      {{"is_read_only", "isro"},
       true,
       [](const OpsView& v) {
         return json{{"read_only", v.core.replication() && v.core.replication()->read_only()}};
       }},
      {{"last_snapshot", "lsnp"}, true, last_snapshot_json},
      {{"leader", "lead"}, true, leader},
      {{"monitor", "mntr"}, false, monitor_json},
      {{"observers", "obsr"}, true, observers},
      {{"ruok"}, true, [](const OpsView&) { return json::object(); }},
      {{"server_stats", "srvr"},
       true,
       [](const OpsView& v) { return server_stats_json(v, false); }},
      {{"stat_reset", "srst"},
       true,
       [](const OpsView& v) {
         v.core.stats() = ServerStats{};
         return json::object();
       }},
      {{"stats", "stat"}, true, [](const OpsView& v) { return server_stats_json(v, true); }},
      {{"voting_view"}, true, voting_view},
      {{"watch_summary", "wchs"}, true, watch_summary},
      {{"watches", "wchc"}, true, watches},
      {{"watches_by_path", "wchp"}, true, watches_by_path},
      {{"zabstate"}, false, zabstate_json},
  };
  return table;
}

const Command* find(const std::string& name) {
  for (const auto& c : commands())
    if (std::find(c.names.begin(), c.names.end(), name) != c.names.end()) return &c;
  return nullptr;
}

}  // namespace

std::vector<std::string> admin_command_names() {
  std::vector<std::string> names;
  for (const auto& c : commands()) names.push_back(c.names.front());
  std::sort(names.begin(), names.end());
  return names;
}

json run_admin_command(const std::string& name, const OpsView& view) {
  const Command* c = find(name);
  if (!c) return {{"command", name}, {"error", "Unknown command: " + name}};
  json out = json::object();
  const Replication* r = view.core.replication();
  if (c->needs_serving && r && !r->serving() && !r->read_only()) {
    out["error"] = "This ZooKeeper instance is not currently serving requests";
  } else {
    out = c->run(view);
    if (!out.contains("error")) out["error"] = nullptr;
  }
  out["command"] = c->names.front();
  return out;
}

}  // namespace corral::server
