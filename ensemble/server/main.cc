// corral-server PATH/zoo.cfg: a standalone Corral server with a durable
// SQLite txn log and snapshots in dataLogDir (dataDir when not set).
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>

#include "ensemble/server/admin/ops_servers.h"
#include "ensemble/server/config.h"
#include "ensemble/server/effective_config.h"
#include "ensemble/server/membership.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/quorum_peer.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshotter.h"
#include "ensemble/server/startup_config.h"
#include "ensemble/server/startup_membership.h"
#include "ensemble/server/version.h"
#include "ensemble/storage/database.h"
#include "ensemble/storage/integrity_check.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/storage_thread.h"

namespace {

using namespace corral;

/// The core's TxnLog, backed by the storage thread.
class StorageLog : public server::TxnLog {
 public:
  explicit StorageLog(storage::StorageThread& storage) : storage_(storage) {}
  void append(tree::SharedTxn txn, std::function<void()> durable) override {
    storage_.append(std::move(txn), std::move(durable));
  }

 private:
  storage::StorageThread& storage_;
};

std::string database_path(const server::ServerConfig& config) {
  std::string dir = config.data_log_dir.empty() ? config.data_dir : config.data_log_dir;
  std::filesystem::create_directories(dir);
  return dir + "/corral.db";
}

// Loads the database into the core while `integrity` (SQLite's quick_check of the file) runs
// beside it; returns false (after saying why) if it cannot. Recovery writes only once the check
// passed. A damaged page read as garbage can make recovery fail for a reason that hides the
// damage: the check's finding is told instead. `last_zxid` gets the last recovered zxid.
bool recover_into(server::ServerCore& core, storage::Database& db,
                  std::future<std::string> integrity, int64_t& last_zxid) {
  auto started = std::chrono::steady_clock::now();
  std::optional<std::string> damage;
  auto await_check = [&] {
    if (!damage) {
      try {
        damage = integrity.get();
      } catch (const std::exception& e) {
        damage = std::string("integrity check failed: ") + e.what();
      }
    }
    if (!damage->empty()) throw storage::StorageError(*damage);
  };
  storage::Recovered rec;
  std::optional<std::string> problem;
  try {
    rec = storage::recover(db, core.tree_for_recovery(), await_check);
  } catch (const std::exception& e) {
    // Garbage read from a damaged page can throw more than StorageError.
    problem = e.what();
    try {
      await_check();
    } catch (const storage::StorageError& damaged) {
      problem = damaged.what();
    }
  }
  if (problem) {
    std::fprintf(stderr, "corral-server: refusing to start: %s\n", problem->c_str());
    return false;
  }
  std::vector<session::Session> live;
  for (const auto& s : rec.sessions) live.push_back({s.id, s.timeout_ms, s.passwd, 0, false});
  core.restore(rec.last_zxid, live, server::NetworkServer::now_ms());
  last_zxid = rec.last_zxid;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  spdlog::info(
      "recovered {} nodes and {} sessions in {} ms: snapshot at zxid 0x{:x} (loaded in {} ms), {} "
      "txns replayed, last zxid 0x{:x}",
      core.tree().node_count(), live.size(), ms, rec.snapshot_zxid, rec.snapshot_load_time.count(),
      rec.txns_replayed, rec.last_zxid);
  return true;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Group commits as the metrics see them: measured on the storage thread, recorded on the core's.
storage::StorageThread::FlushObserver commit_recorder(asio::io_context& io,
                                                      server::ServerCore& core) {
  return [&io, &core](size_t txns, std::chrono::nanoseconds took) {
    asio::post(io, [&core, txns, took] {
      core.stats().commit_batch_txns.add(double(txns));
      core.stats().fsync_ms.add(std::chrono::duration<double, std::milli>(took).count());
    });
  };
}

// The membership to start with (startup_membership), logged; nothing (after saying why) if
// the files and the database disagree.
std::optional<server::StartupMembership> choose_membership(const server::ServerConfig& config,
                                                           const std::string& config_path,
                                                           storage::Database& db) {
  server::BootstrapConfig bootstrap{
      server::membership_of(config),
      config.dynamic_config_file.empty() ? config_path : config.dynamic_config_file};
  auto chosen = server::startup_membership(bootstrap, db.config(storage::ConfigSlot::kActive),
                                           db.config(storage::ConfigSlot::kNext),
                                           config.reconfig_enabled, config.my_id);
  if (auto* error = std::get_if<std::string>(&chosen)) {
    std::fprintf(stderr, "corral-server: refusing to start: %s\n", error->c_str());
    return std::nullopt;
  }
  auto& membership = std::get<server::StartupMembership>(chosen);
  for (const auto& notice : membership.notices) spdlog::warn("{}", notice);
  spdlog::info("membership: config version 0x{:x} from {}{}", membership.active->version,
               membership.active_source, config.reconfig_enabled ? " (reconfigEnabled)" : "");
  return std::move(membership);
}

// What ZAB needs from storage: the epochs, the newest txns (for DIFFs) and, with
// reconfigEnabled, the configs chosen at start-up (without it, the core's static members).
zab::PeerHistory load_history(storage::Database& db, int64_t last_zxid,
                              const server::StartupMembership& membership, bool reconfig_enabled) {
  zab::PeerHistory h;
  if (reconfig_enabled) {
    h.active = membership.active;
    h.last_seen = membership.last_seen;
  }
  h.accepted_epoch = db.meta("acceptedEpoch", 0);
  h.current_epoch = db.meta("currentEpoch", 0);
  h.abstaining = db.meta(storage::Database::kAbstainingKey, 0) != 0;
  h.last_zxid = last_zxid;
  const zab::PeerConfig limits;
  h.recent = db.recent_txns(limits.history_txns, limits.history_bytes);
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral::server;
  std::string_view first = argc > 1 ? argv[1] : "";
  if (argc == 2 && first == "--version") {
    std::printf("corral-server %s\n", std::string(kCorralVersion).c_str());
    return 0;
  }
  bool check_only = argc == 3 && first == "--check-config";
  if ((argc != 2 && !check_only) || first == "--help") {
    std::fprintf(stderr,
                 "usage: corral-server PATH/zoo.cfg\n"
                 "       corral-server --check-config PATH/zoo.cfg  (print the settings, exit)\n"
                 "       corral-server --version\n");
    return argc == 2 ? 0 : 2;
  }
  const char* config_path = argv[argc - 1];
  ServerConfig config;
  try {
    config = load_startup_config(config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "corral-server: %s\n", e.what());
    return 2;
  }
  if (check_only) {
    std::printf("# corral-server %s: %s is valid; effective settings:\n%s",
                std::string(kCorralVersion).c_str(), config_path,
                effective_config_text(config).c_str());
    return 0;
  }
  bool ensemble = !config.servers.empty();

  std::unique_ptr<corral::storage::Database> db;
  try {
    db = std::make_unique<corral::storage::Database>(
        database_path(config), config.force_sync,
        corral::storage::Database::IntegrityCheck::kByCaller);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: refusing to start: %s\n", e.what());
    return 1;
  }
  // The check reads the whole file (about 1 s per GB): on a thread of its own, beside recovery.
  auto integrity = std::async(std::launch::async, corral::storage::page_check_file,
                              database_path(config), corral::storage::PageCheck::kQuick);
  asio::io_context io(1);
  ServerCore core(config, NetworkServer::now_ms());
  int64_t last_zxid = 0;
  if (!recover_into(core, *db, std::move(integrity), last_zxid)) return 1;
  std::optional<StartupMembership> membership;
  if (ensemble && !(membership = choose_membership(config, config_path, *db))) return 2;
  // ZooKeeper's initConfigInZKDatabase: outside the log, before serving; standalone leaves
  // /zookeeper/config empty.
  if (ensemble) core.install_config(*membership->active, NetworkServer::now_ms());
  corral::storage::StorageThread storage(
      *db, [&io](std::function<void()> f) { asio::post(io, std::move(f)); },
      commit_recorder(io, core));
  StorageLog log(storage);
  std::unique_ptr<QuorumPeer> quorum;
  if (ensemble) {
    zab::PeerHistory history = load_history(*db, last_zxid, *membership, config.reconfig_enabled);
    spdlog::info("ensemble member {}: accepted epoch {}, current epoch {}, last zxid 0x{:x}",
                 config.my_id, history.accepted_epoch, history.current_epoch, last_zxid);
    quorum = std::make_unique<QuorumPeer>(io, core, storage, std::move(history), config_path);
    core.set_replication(quorum.get());
  } else {
    core.set_log(&log);
  }
  Snapshotter snapshotter(io, core, storage);

  NetworkServer server(io, core);
  server.on_tick([&] { snapshotter.maybe_start(); });
  OpsServers ops(io, OpsView{core, server, snapshotter, storage, file_text(config_path)});
  try {
    if (quorum) quorum->start();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "corral-server: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: cannot listen on the quorum or election port: %s\n",
                 e.what());
    return 1;
  }
  try {
    server.start();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "corral-server: %s: %s\n", argv[1], e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: cannot listen on %s:%d or %s:%d (TLS): %s\n",
                 config.client_port_address.c_str(), config.client_port,
                 config.secure_client_port_address.c_str(), config.secure_client_port, e.what());
    return 1;
  }
  if (server.port() != 0) {
    spdlog::info("corral-server serving on {}:{} ({}, log in {})", config.client_port_address,
                 server.port(), ensemble ? "ensemble member" : "standalone", db->path());
  }
  if (server.secure_port() != 0) {
    spdlog::info("corral-server serving TLS on {}:{} (clientAuth={})",
                 config.secure_client_port_address, server.secure_port(),
                 tls_client_auth_name(config.client_tls.client_auth));
  }
  try {
    ops.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: %s\n", e.what());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    server.stop();
    if (quorum) quorum->stop();
    io.stop();
  });
  io.run();
  ops.stop();
  storage.stop();
  return 0;
}
