// corral-server PATH/zoo.cfg: a standalone Corral server.
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>

#include "ensemble/server/config.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/server_core.h"

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
    spdlog::warn("server.N lines found: the replicated ensemble is not built yet; running standalone");
  asio::io_context io(1);
  ServerCore core(config, NetworkServer::now_ms());
  NetworkServer server(io, core);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: cannot listen on %s:%d: %s\n",
                 config.client_port_address.c_str(), config.client_port, e.what());
    return 1;
  }
  spdlog::info("corral-server serving on {}:{} (standalone, in-memory)",
               config.client_port_address, server.port());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}
