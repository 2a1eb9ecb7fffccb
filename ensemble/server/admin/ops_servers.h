// The server's HTTP operations endpoints, started from zoo.cfg: Prometheus' /metrics
// (metricsProvider.*) and ZooKeeper's AdminServer (admin.*).
#pragma once

#include <asio/io_context.hpp>
#include <memory>

#include "ensemble/ops/http_endpoint.h"
#include "ensemble/server/admin/ops_view.h"

namespace corral::server {

/// Owns the /metrics and AdminServer listeners configured for this server.
class OpsServers {
 public:
  /// `view` must outlive this; handlers run on `io`'s thread.
  OpsServers(asio::io_context& io, OpsView view);
  /// Starts the endpoints zoo.cfg turns on. Throws std::runtime_error when one cannot listen.
  void start();
  /// Stops them (call after the core's thread stopped).
  void stop();

 private:
  ops::HttpReply metrics(const std::string& path) const;
  ops::HttpReply admin(const std::string& path);

  asio::io_context& io_;
  OpsView view_;
  std::unique_ptr<ops::HttpEndpoint> metrics_;
  std::unique_ptr<ops::HttpEndpoint> admin_;
};

}  // namespace corral::server
