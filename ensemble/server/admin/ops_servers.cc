#include "ensemble/server/admin/ops_servers.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "ensemble/ops/prometheus_text.h"
#include "ensemble/server/admin/admin_commands.h"
#include "ensemble/server/admin/server_metrics.h"
#include "ensemble/server/server_core.h"

namespace corral::server {
namespace {

// How long a scrape or command may wait for the core's thread.
constexpr std::chrono::milliseconds kCoreTimeout{5000};

ops::HttpEndpoint::Post poster(asio::io_context& io) {
  return [&io](std::function<void()> f) { asio::post(io, std::move(f)); };
}

ops::HttpReply not_found() { return {404, "text/plain", "not found\n"}; }

// ZooKeeper 3.8 lists its commands as links, one per line.
std::string command_links(const std::string& url) {
  std::string out;
  for (const auto& name : admin_command_names())
    out += "<a href=\"" + url + "/" + name + "\">" + name + "</a>\n<br/>\n";
  return out;
}

}  // namespace

OpsServers::OpsServers(asio::io_context& io, OpsView view) : io_(io), view_(std::move(view)) {}

void OpsServers::start() {
  const ServerConfig& c = view_.core.config();
  if (c.prometheus_enabled()) {
    metrics_ = std::make_unique<ops::HttpEndpoint>(
        poster(io_), c.metrics_http_host, c.metrics_http_port,
        [this](const std::string& path) { return metrics(path); }, kCoreTimeout);
    metrics_->open();
    spdlog::info("metrics for Prometheus on {}/metrics", metrics_->url());
  }
  if (c.admin_enable_server) {
    admin_ = std::make_unique<ops::HttpEndpoint>(
        poster(io_), c.admin_server_address, c.admin_server_port,
        [this](const std::string& path) { return admin(path); },
        std::chrono::milliseconds(std::min(c.admin_idle_timeout_ms, int(kCoreTimeout.count()))));
    admin_->open();
    spdlog::info("AdminServer on {}{}", admin_->url(), c.admin_command_url);
  }
}

void OpsServers::stop() {
  if (metrics_) metrics_->close();
  if (admin_) admin_->close();
}

ops::HttpReply OpsServers::metrics(const std::string& path) const {
  if (path != "/metrics") return not_found();
  return {200, ops::kPrometheusContentType,
          ops::render_prometheus(collect_metrics(view_).families())};
}

ops::HttpReply OpsServers::admin(const std::string& path) {
  const std::string& url = view_.core.config().admin_command_url;
  if (path == url || path == url + "/") return {200, "text/html", command_links(url)};
  if (!path.starts_with(url + "/")) return not_found();
  std::string name = path.substr(url.size() + 1);
  return {200, "application/json", run_admin_command(name, view_).dump(2) + "\n"};
}

}  // namespace corral::server
