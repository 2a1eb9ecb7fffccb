// The server's configuration, read from a ZooKeeper 3.8 zoo.cfg file.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/server/tls_settings.h"

namespace corral::server {

/// A configuration that cannot be used. The message names the file, the line (when there is
/// one) and the key, e.g. "zoo.cfg:3: tickTime: expected a positive integer, got 'abc'".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Whether a server votes (participant) or only follows the committed history (observer).
enum class PeerType { participant, observer };

/// One ensemble member, from `server.N=host:quorumPort:electionPort[:type][;[addr:]clientPort]`.
struct PeerSpec {
  int64_t id = 0;              ///< N, the member's server id (its myid).
  std::string host;            ///< Host name or address; an IPv6 address without brackets.
  int quorum_port = 0;         ///< Port followers use to connect to the leader.
  int election_port = 0;       ///< Port for leader election.
  bool observer = false;       ///< True for ":observer".
  std::string client_address;  ///< Client bind address; "0.0.0.0" when only a port is given,
                               ///< empty when the line has no client part.
  int client_port = 0;         ///< Client port; 0 when the line has no client part.
};

/// The settings of one server. Defaults are Apache ZooKeeper 3.8's.
struct ServerConfig {
  int tick_ms = 3000;                           ///< tickTime: the unit of the limits below.
  std::string data_dir;                         ///< dataDir: snapshots and myid (required).
  std::string data_log_dir;                     ///< dataLogDir: txn log (default data_dir).
  int client_port = 0;                          ///< clientPort; 0 when not set.
  std::string client_port_address = "0.0.0.0";  ///< clientPortAddress: client bind address.
  int max_client_cnxns = 60;                    ///< maxClientCnxns per IP; 0 = unlimited.
  int min_session_timeout_ms = -1;              ///< minSessionTimeout; -1 = 2 * tick_ms.
  int max_session_timeout_ms = -1;              ///< maxSessionTimeout; -1 = 20 * tick_ms.
  /// 4lw.commands.whitelist; {"*"} allows all. See four_letter_word_enabled().
  std::vector<std::string> four_letter_words = {"srvr"};
  int jute_max_buffer = 0xfffff;               ///< jute.maxbuffer: largest frame, bytes.
  int container_check_interval_ms = 60000;     ///< znode.container.checkIntervalMs.
  bool extended_types_enabled = false;         ///< extendedTypesEnabled (TTL nodes).
  std::string super_digest;                    ///< superDigest "user:base64(sha1)".
  int init_limit = 10;                         ///< initLimit, ticks for a learner to sync.
  int sync_limit = 5;                          ///< syncLimit, ticks a learner may lag.
  PeerType peer_type = PeerType::participant;  ///< peerType.
  bool force_sync = true;                      ///< forceSync: fsync the txn log.
  int snap_count = 100000;                     ///< snapCount: txns between snapshots.
  int autopurge_snap_retain_count = 3;         ///< autopurge.snapRetainCount (min 3).
  int autopurge_purge_interval_hours = 0;      ///< autopurge.purgeInterval; 0 = never.
  bool readonly_mode_enabled = false;          ///< readonlymode.enabled.
  int64_t my_id = 0;                           ///< Content of dataDir/myid; 0 if absent.
  // -- authorization (watch ACLs, exists READ) --
  /// corral.exists.checkReadAcl: exists answers ZNOAUTH, and sets no watch, when the node
  /// exists and the client lacks READ, as ZooKeeper 3.9.2/3.8.4 do unconditionally
  /// (ZOOKEEPER-2590). Off by default, as in Debian's 3.8.0. Corral's own key: ZooKeeper has
  /// no switch for it.
  bool exists_checks_read = false;
  // -- SASL (client port) --
  /// java.security.auth.login.config: the JAAS file whose login section lists the DIGEST-MD5
  /// users (`user_NAME="password"`); empty = SASL logins fail. ZooKeeper reads it only from
  /// `-Djava.security.auth.login.config=` in SERVER_JVMFLAGS, which Corral also reads
  /// (see sasl_settings.h); Corral takes it from zoo.cfg too, and zoo.cfg wins.
  std::string jaas_config_path;
  std::string sasl_login_section = "Server";  ///< sasl.serverconfig: the JAAS section.
  /// superUser (zookeeper.superUser): the SASL authorization id that is super.
  std::string sasl_super_user;
  bool kerberos_remove_host = false;   ///< kerberos.removeHostFromPrincipal.
  bool kerberos_remove_realm = false;  ///< kerberos.removeRealmFromPrincipal.
  /// The DIGEST-MD5 users (name -> password), loaded from the JAAS file by load_sasl_users().
  std::map<std::string, std::string> sasl_users;
  // -- TLS (client port, x509) --
  int secure_client_port = 0;  ///< secureClientPort: the TLS client port; 0 when not set.
  /// secureClientPortAddress: its bind address.
  std::string secure_client_port_address = "0.0.0.0";
  TlsSettings client_tls;  ///< ssl.*: the secure client port's TLS settings.
  /// ssl.quorum.*: TLS between members (with sslQuorum).
  TlsSettings quorum_tls = TlsSettings::with_prefix("ssl.quorum.");
  bool ssl_quorum = false;  ///< sslQuorum: TLS on the quorum and election ports.
  /// X509AuthenticationProvider.superUser: the certificate subject that is super.
  std::string x509_super_user;
  // -- quorum security (sslQuorum, quorum SASL) --
  bool quorum_auth_enable_sasl = false;           ///< quorum.auth.enableSasl.
  bool quorum_auth_learner_require_sasl = false;  ///< quorum.auth.learnerRequireSasl.
  bool quorum_auth_server_require_sasl = false;   ///< quorum.auth.serverRequireSasl.
  /// quorum.auth.learner.saslLoginContext: the JAAS section with this server's account.
  std::string quorum_learner_login_context = "QuorumLearner";
  /// quorum.auth.server.saslLoginContext: the JAAS section listing the members' accounts.
  std::string quorum_server_login_context = "QuorumServer";
  /// corral.quorum.sendQueueMaxBytes: bytes waiting for one member beyond which it is cut
  /// off and resynced later (Corral's own key; ZooKeeper's queues are unbounded).
  int64_t quorum_send_queue_max_bytes = int64_t{64} << 20;
  // -- limits and overload --
  /// globalOutstandingLimit: requests held or in flight on this server (summed over its
  /// connections) past which every connection with a request of its own outstanding stops
  /// reading, as ZooKeeper's ServerCnxn throttle does; connections with none still read.
  int global_outstanding_limit = 1000;
  /// corral.connectionOutstandingLimit (Corral's own key): requests one connection may have
  /// held or in flight before it stops reading; ZooKeeper bounds one only by the global limit.
  int connection_outstanding_limit = 1000;
  /// corral.connectionOutputLimitBytes (Corral's own key): replies and watch events queued for
  /// a client that does not read them. Its requests stop being read at half; past the whole,
  /// the connection is closed (logged). ZooKeeper queues without bound. Default 8 MiB.
  int connection_output_limit_bytes = 8 * 1024 * 1024;
  /// corral.outputBudgetBytes (Corral's own key): replies and watch events queued for all
  /// clients together, past which connections stop being read until they drain (see
  /// OutputBudget). 256 MiB: 256 replies of the largest default size (jute.maxbuffer) at once,
  /// or 32 clients at their connectionOutputLimitBytes; a quarter of ZooKeeper's default heap.
  int64_t output_budget_bytes = int64_t{256} << 20;
  // -- metrics (metricsProvider.*) --
  /// metricsProvider.className: ZooKeeper's PrometheusMetricsProvider turns on the /metrics
  /// endpoint; empty or DefaultMetricsProvider leaves it off (mntr still reports).
  std::string metrics_provider_class;
  int metrics_http_port = 7000;               ///< metricsProvider.httpPort.
  std::string metrics_http_host = "0.0.0.0";  ///< metricsProvider.httpHost.
  /// metricsProvider.exportJvmInfo: accepted and reported (--check-config); there is no JVM.
  bool metrics_export_jvm_info = true;
  /// True when metricsProvider.className names the Prometheus provider.
  bool prometheus_enabled() const;
  // -- AdminServer (admin.*) --
  /// admin.enableServer. ZooKeeper defaults to true; Corral to false, because every member of
  /// an ensemble on one host (tests, run-main.sh) and the master-worker dashboard would all
  /// want port 8080. Operators turn it on per server, with distinct admin.serverPort values.
  bool admin_enable_server = false;
  std::string admin_server_address = "0.0.0.0";  ///< admin.serverAddress.
  int admin_server_port = 8080;                  ///< admin.serverPort.
  std::string admin_command_url = "/commands";   ///< admin.commandURL (starts with '/').
  int admin_idle_timeout_ms = 30000;             ///< admin.idleTimeout: per-request timeout.
  // -- quorum frames (hostile peers) --
  /// corral.quorum.maxFrameBytes (Corral's own key): the longest frame a member may send
  /// on the quorum port. A SNAP is one frame holding the whole tree (ZooKeeper streams it
  /// unbounded), so this bounds the tree a learner can sync; a longer frame is not sent
  /// (logged) and closes the connection that carries one. Default 1 GiB: about 6 million
  /// znodes of 100 bytes (159 bytes each in the image, measured), costing the learner about
  /// three times that in memory to install.
  int64_t quorum_max_frame_bytes = int64_t{1} << 30;
  // -- dynamic reconfiguration (reconfigEnabled, dynamicConfigFile) --
  /// reconfigEnabled: clients may change the membership (reconfig). Off, zoo.cfg's members
  /// (or the dynamic file's) always win at start-up, as in ZooKeeper's static mode.
  bool reconfig_enabled = false;
  /// standaloneEnabled: a config with one voter may run standalone; reconfig may then not
  /// shrink an ensemble below 2 voters (1 when false).
  bool standalone_enabled = true;
  /// dynamicConfigFile, as written: the file holding the server.N lines (then none may be in
  /// zoo.cfg). load_startup_config() reads it into `servers`. Empty when not set.
  std::string dynamic_config_file;
  /// The dynamic file's version: the hex suffix of its name (`zoo.cfg.dynamic.100000000`),
  /// 0 when it has none or dynamicConfigFile is not set.
  int64_t dynamic_config_version = 0;
  // -- skipACL --
  /// skipACL=yes, or -Dzookeeper.skipACL=yes in SERVER_JVMFLAGS: no ACL is checked at all
  /// (ZooKeeperServer.skipACL). Only the exact word "yes" turns it on in ZooKeeper.
  bool skip_acl = false;
  /// zoo.cfg has a skipACL line: it wins over SERVER_JVMFLAGS, as zoo.cfg's keys are set as
  /// system properties after the JVM's own in ZooKeeper.
  bool skip_acl_in_cfg = false;
  std::vector<PeerSpec> servers;          ///< server.N lines, in file order.
  std::vector<std::string> ignored_keys;  ///< Keys Corral does not use (logged).

  /// The smallest session timeout granted to a client.
  int effective_min_session_timeout_ms() const;
  /// The largest session timeout granted to a client.
  int effective_max_session_timeout_ms() const;
  /// Whether the four letter word `word` may be answered. As in ZooKeeper, "srvr" always
  /// may (zkServer.sh uses it) and "isro" may when read-only mode is enabled.
  bool four_letter_word_enabled(std::string_view word) const;
};

/// ZooKeeper's QuorumPeerConfig.setupClientPort: this server's client address comes from its
/// server.N line when that has one; clientPort/clientPortAddress may only repeat it (else a
/// ConfigError naming `source`).
void apply_own_client_address(ServerConfig& config, const std::string& source);

/// Parses the text of a zoo.cfg (Java properties: `key=value` lines, `#` or `!` comments,
/// surrounding whitespace trimmed; later duplicates of a key win). Integers are decimal or
/// 0x-prefixed hexadecimal. `source_name` prefixes error messages. Keys Corral does not use
/// are logged and listed in `ignored_keys`. Throws ConfigError.
ServerConfig parse_config(std::string_view text, const std::string& source_name);

/// Reads the zoo.cfg at `path`, then `myid` from its dataDir. As ZooKeeper 3.5+ does, this
/// server's own `server.N=...;[addr:]port` part supplies the client address when clientPort
/// is not set, and must agree with clientPort when it is. Throws ConfigError.
ServerConfig load_config(const std::string& path);

}  // namespace corral::server
