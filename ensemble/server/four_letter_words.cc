#include "ensemble/server/four_letter_words.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <sstream>

#include "ensemble/server/network_server.h"
#include "ensemble/server/version.h"
#include "ensemble/storage/tree_digest.h"

namespace corral::server {
namespace {

constexpr std::array<std::string_view, 13> kWords = {"ruok", "srvr", "stat", "mntr", "conf",
                                                     "cons", "envi", "wchs", "dirs", "isro",
                                                     "crst", "srst", "dgst"};
// Clients parse the leading ZooKeeper version; Corral's own follows it.
const std::string kVersion = "3.8.0-corral-" + std::string(kCorralVersion);

std::string hex(int64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

std::string latency_line(const ServerStats& s) {
  double avg = s.requests_completed ? double(s.total_latency_ms) / double(s.requests_completed) : 0;
  std::ostringstream o;
  o << "Latency min/avg/max: " << (s.min_latency_ms < 0 ? 0 : s.min_latency_ms) << "/" << avg << "/"
    << s.max_latency_ms << "\n";
  return o.str();
}

std::string connection_line(const ClientLink& c, bool detailed) {
  std::ostringstream o;
  o << " /" << c.endpoint << "[1](queued=0,recved=" << c.packets_received
    << ",sent=" << c.packets_sent;
  if (detailed && c.session_id != 0) {
    o << ",sid=" << hex(c.session_id) << ",lop=" << c.last_op << ",est=" << c.established_ms
      << ",to=" << c.session_timeout_ms << ",lcxid=" << hex(c.last_cxid)
      << ",lzxid=" << hex(c.last_zxid) << ",lresp=" << c.last_response_ms
      << ",llat=" << c.last_latency_ms
      << ",minlat=" << (c.min_latency_ms < 0 ? 0 : c.min_latency_ms) << ",avglat="
      << (c.requests_completed ? double(c.total_latency_ms) / double(c.requests_completed) : 0.0)
      << ",maxlat=" << c.max_latency_ms;
  }
  o << ")\n";
  return o.str();
}

std::string connections(const ServerCore& core, bool detailed) {
  std::string out;
  for (const auto& [id, link] : core.links()) out += connection_line(*link, detailed);
  return out;
}

std::string mode(const ServerCore& core) { return server_mode(core); }

std::string srvr(ServerCore& core, bool with_clients) {
  std::ostringstream o;
  o << "Zookeeper version: " << kVersion << "\n";
  if (with_clients) o << "Clients:\n" << connections(core, false) << "\n";
  o << latency_line(core.stats()) << "Received: " << core.stats().packets_received << "\n"
    << "Sent: " << core.stats().packets_sent << "\n"
    << "Connections: " << core.links().size() << "\n"
    << "Outstanding: " << core.outstanding_requests() << "\n"
    << "Zxid: " << hex(core.last_zxid()) << "\n"
    << "Mode: " << mode(core) << "\n"
    << "Node count: " << core.tree().node_count() << "\n";
  return o.str();
}

uint64_t dir_size(const std::string& dir) { return directory_size(dir); }

std::string mntr(ServerCore& core) {
  const auto& s = core.stats();
  std::ostringstream o;
  auto kv = [&](std::string_view k, auto v) { o << k << "\t" << v << "\n"; };
  kv("zk_version", kVersion);
  kv("zk_server_state", mode(core));
  kv("zk_avg_latency",
     s.requests_completed ? double(s.total_latency_ms) / s.requests_completed : 0);
  kv("zk_max_latency", s.max_latency_ms);
  kv("zk_min_latency", s.min_latency_ms < 0 ? 0 : s.min_latency_ms);
  kv("zk_packets_received", s.packets_received);
  kv("zk_packets_sent", s.packets_sent);
  kv("zk_num_alive_connections", core.links().size());
  kv("zk_outstanding_requests", core.outstanding_requests());
  kv("zk_znode_count", core.tree().node_count());
  kv("zk_watch_count", core.watches().watch_count());
  size_t ephemerals = 0;
  for (const auto& [session, n] : core.tree().ephemeral_counts()) ephemerals += n;
  kv("zk_ephemerals_count", ephemerals);
  kv("zk_approximate_data_size", core.tree().data_bytes());
  kv("zk_global_sessions", core.sessions().sessions().size());
  kv("zk_connection_rejected", s.connections_rejected);
  kv("zk_uptime", NetworkServer::now_ms() - core.started_ms());
  if (core.replication() && core.replication()->leads())
    kv("zk_synced_followers", core.replication()->synced_followers());
  return o.str();
}

// QuorumZooKeeperServer.dumpConf's lines: electionAlg is always 3 (fast leader election),
// peerType LearnerType's ordinal, and the membership text has no final newline.
void quorum_conf(std::ostringstream& o, const ServerConfig& c, const zab::QuorumConfig& members) {
  auto own = members.servers.find(c.my_id);
  bool listed = own != members.servers.end();
  o << "initLimit=" << c.init_limit << "\n"
    << "syncLimit=" << c.sync_limit << "\n"
    << "electionAlg=3\n"
    << "electionPort=" << (listed ? own->second.election_port : 0) << "\n"
    << "quorumPort=" << (listed ? own->second.quorum_port : 0) << "\n"
    << "peerType=" << (members.role_of(c.my_id) == zab::QuorumRole::kObserver ? 1 : 0) << "\n"
    << "membership: \n"
    << members.text();
}

std::string conf(const ServerCore& core) {
  const auto& c = core.config();
  std::ostringstream o;
  o << "clientPort=" << c.client_port << "\n"
    << "secureClientPort=-1\n"
    << "dataDir=" << c.data_dir << "\n"
    << "dataDirSize=" << dir_size(c.data_dir) << "\n"
    << "dataLogDir=" << c.data_log_dir << "\n"
    << "dataLogSize=" << dir_size(c.data_log_dir) << "\n"
    << "tickTime=" << c.tick_ms << "\n"
    << "maxClientCnxns=" << c.max_client_cnxns << "\n"
    << "minSessionTimeout=" << c.effective_min_session_timeout_ms() << "\n"
    << "maxSessionTimeout=" << c.effective_max_session_timeout_ms() << "\n"
    << "clientPortListenBacklog=-1\n"
    << "serverId=" << c.my_id << "\n";
  if (const auto& members = core.quorum_config()) quorum_conf(o, c, *members);
  return o.str();
}

std::string envi() {
  std::ostringstream o;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  utsname u{};
  uname(&u);
  char cwd[4096] = {0};
  if (!getcwd(cwd, sizeof cwd - 1)) cwd[0] = '\0';
  o << "Environment:\n"
    << "zookeeper.version=" << kVersion << "\n"
    << "host.name=" << host << "\n"
    << "os.name=" << u.sysname << "\n"
    << "os.arch=" << u.machine << "\n"
    << "os.version=" << u.release << "\n"
    << "user.dir=" << cwd << "\n";
  return o.str();
}

std::string wchs(const ServerCore& core) {
  std::ostringstream o;
  o << core.watches().by_watcher().size() << " connections watching " << core.watches().path_count()
    << " paths\n"
    << "Total watches:" << core.watches().watch_count() << "\n";
  return o.str();
}

// Corral's own word: the digest of the tree at the zxid it stands at, in mntr's form, for
// `corral-admin digest` (ZooKeeper 3.6+ reports its digests through the AdminServer instead).
std::string dgst(const ServerCore& core) {
  storage::TreeDigest d = storage::tree_digest(core.tree());
  std::ostringstream o;
  o << "zk_zxid\t" << hex(d.zxid) << "\n"
    << "zk_digest\t" << storage::digest_text(d.digest) << "\n"
    << "zk_znode_count\t" << d.node_count << "\n";
  return o.str();
}

}  // namespace

std::string server_version() { return std::string(kVersion); }

std::string server_mode(const ServerCore& core) {
  if (!core.replication()) return "standalone";
  return core.replication()->read_only() ? "read-only" : core.replication()->mode();
}

uint64_t directory_size(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

bool is_four_letter_word(std::string_view word) {
  for (auto w : kWords)
    if (w == word) return true;
  return false;
}

std::string run_four_letter_word(std::string_view word, NetworkServer& server) {
  ServerCore& core = server.core();
  if (!core.config().four_letter_word_enabled(word))
    return std::string(word) + " is not executed because it is not in the whitelist.\n";
  if (word == "ruok") return "imok";
  // Like ZooKeeper, a member outside a quorum says so instead of reporting stats.
  bool stats_word = word == "srvr" || word == "stat" || word == "mntr" || word == "cons" ||
                    word == "wchs" || word == "dgst";
  if (stats_word && core.replication() && !core.replication()->serving() &&
      !core.replication()->read_only())
    return "This ZooKeeper instance is not currently serving requests\n";
  if (word == "srvr") return srvr(core, false);
  if (word == "stat") return srvr(core, true);
  if (word == "mntr") return mntr(core);
  if (word == "conf") return conf(core);
  if (word == "cons") return connections(core, true) + "\n";
  if (word == "envi") return envi();
  if (word == "wchs") return wchs(core);
  if (word == "dgst") return dgst(core);
  if (word == "isro") return core.replication() && core.replication()->read_only() ? "ro" : "rw";
  if (word == "dirs") {
    return "datadir_size: " + std::to_string(dir_size(core.config().data_dir)) +
           "\nlogdir_size: " + std::to_string(dir_size(core.config().data_log_dir)) + "\n";
  }
  if (word == "crst") {
    server.reset_connection_stats();
    return "Connection stats reset.\n";
  }
  core.stats() = ServerStats{};
  return "Server stats reset.\n";
}

}  // namespace corral::server
