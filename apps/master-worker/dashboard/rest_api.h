// The dashboard's HTTP handler: the REST API under /api (DESIGN.md, "REST API"), the event
// stream, and web/'s files at `/`. Bad requests get a 4xx with {"error": "..."} and change
// nothing.
#pragma once

#include <cpprest/http_msg.h>

#include <nlohmann/json.hpp>
#include <string>

#include "apps/master-worker/dashboard/cluster.h"
#include "apps/master-worker/dashboard/events.h"
#include "apps/master-worker/dashboard/history.h"
#include "apps/master-worker/dashboard/model.h"
#include "apps/master-worker/dashboard/requests.h"
#include "apps/master-worker/dashboard/static_files.h"
#include "apps/master-worker/dashboard/task_list.h"

namespace corral::mw {

/// What the handler serves from (all outlive it).
struct RestContext {
  Model& model;
  History& history;
  ClusterView& cluster;
  EventHub& hub;
  const StaticFiles& files;
  /// Whether POST /api/tasks accepts `shell` tasks.
  bool allow_shell = false;
};

/// Answers every request of the dashboard's listener. Thread-safe.
class RestApi {
 public:
  explicit RestApi(RestContext context) : c_(context) {}

  /// Answers `request` (never throws).
  void handle(const web::http::http_request& request);

 private:
  void route_api(const web::http::http_request& request, const std::string& path);
  void serve_file(const web::http::http_request& request, const std::string& path);
  void get_tasks(const web::http::http_request& request);
  void get_task(const web::http::http_request& request, const std::string& id);
  void post_task(const web::http::http_request& request);
  void get_history(const web::http::http_request& request);

  RestContext c_;
};

}  // namespace corral::mw
