// corral-server PATH/zoo.cfg: a standalone Corral server with a durable
// SQLite txn log and snapshots in dataLogDir (dataDir when not set).
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "ensemble/server/config.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshotter.h"
#include "ensemble/storage/database.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/storage_thread.h"

namespace {

using namespace corral;

/// The core's TxnLog, backed by the storage thread.
class StorageLog : public server::TxnLog {
 public:
  explicit StorageLog(storage::StorageThread& storage) : storage_(storage) {}
  void append(tree::Txn txn, std::function<void()> durable) override {
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

// Loads the database into the core; returns false (after saying why) if it cannot.
bool recover_into(server::ServerCore& core, storage::Database& db) {
  auto started = std::chrono::steady_clock::now();
  storage::Recovered rec;
  try {
    rec = storage::recover(db, core.tree_for_recovery());
  } catch (const storage::StorageError& e) {
    std::fprintf(stderr, "corral-server: refusing to start: %s\n", e.what());
    return false;
  }
  std::vector<session::Session> live;
  for (const auto& s : rec.sessions) live.push_back({s.id, s.timeout_ms, s.passwd, 0, false});
  core.restore(rec.last_zxid, live, server::NetworkServer::now_ms());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  spdlog::info(
      "recovered {} nodes and {} sessions in {} ms: snapshot at zxid 0x{:x}, {} txns replayed, "
      "last zxid 0x{:x}",
      core.tree().node_count(), live.size(), ms, rec.snapshot_zxid, rec.txns_replayed,
      rec.last_zxid);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral::server;
  if (argc != 2 || std::string_view(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: corral-server PATH/zoo.cfg\n");
    return argc == 2 ? 0 : 2;
  }
  ServerConfig config;
  try {
    config = load_config(argv[1]);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "corral-server: %s\n", e.what());
    return 2;
  }
  if (config.client_port == 0) {
    std::fprintf(stderr, "corral-server: %s: clientPort: missing (required)\n", argv[1]);
    return 2;
  }
  if (!config.servers.empty())
    spdlog::warn(
        "server.N lines found: the replicated ensemble is not built yet; running standalone");

  std::unique_ptr<corral::storage::Database> db;
  try {
    db = std::make_unique<corral::storage::Database>(database_path(config), config.force_sync);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: refusing to start: %s\n", e.what());
    return 1;
  }
  asio::io_context io(1);
  ServerCore core(config, NetworkServer::now_ms());
  if (!recover_into(core, *db)) return 1;
  corral::storage::StorageThread storage(
      *db, [&io](std::function<void()> f) { asio::post(io, std::move(f)); });
  StorageLog log(storage);
  core.set_log(&log);
  Snapshotter snapshotter(io, core, storage);

  NetworkServer server(io, core);
  server.on_tick([&] { snapshotter.maybe_start(); });
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: cannot listen on %s:%d: %s\n",
                 config.client_port_address.c_str(), config.client_port, e.what());
    return 1;
  }
  spdlog::info("corral-server serving on {}:{} (standalone, log in {})", config.client_port_address,
               server.port(), db->path());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    server.stop();
    io.stop();
  });
  io.run();
  storage.stop();
  return 0;
}
