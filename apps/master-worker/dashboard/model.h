// The dashboard's model: one session with the ensemble, TreeCaches on /master, /workers,
// /tasks, /assign and /status, the picture derived from them (view.h), the events between
// pictures, and the archiving of finished tasks into the history. A lost session is
// replaced by a new Client with new caches; the last picture is served meanwhile.
//
// (Asio stays inside model.cc: cpprestsdk brings Boost.Asio, which cannot share a
// translation unit with standalone Asio.)
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/master-worker/dashboard/events.h"
#include "apps/master-worker/dashboard/history.h"
#include "apps/master-worker/dashboard/view.h"

namespace corral::mw {

/// The /api/summary object from a picture and the history (each task counted once).
nlohmann::json summary_json(const View& view, const History& history);

/// Follows the application's znodes on a thread of its own. Thread-safe.
class Model {
 public:
  /// A model of the application on the ensemble `connect_string`, archiving into
  /// `history` and publishing to `hub` (both outlive the model).
  Model(std::string connect_string, History& history, EventHub& hub,
        std::chrono::milliseconds session_timeout = std::chrono::milliseconds(10000));
  /// stop().
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Connects and starts following (returns at once).
  void start();
  /// Closes the session and joins the thread.
  void stop();

  /// The latest picture (never null).
  std::shared_ptr<const View> view() const;
  /// The summary of the latest picture.
  nlohmann::json summary() const;
  /// True while the session is connected.
  bool connected() const;

  /// What creating a task gave: its id, or an HTTP status and a message.
  struct Created {
    std::string id;
    int http_status = 201;
    std::string error;
  };
  /// Creates /tasks/task-<seq> (persistent sequential) for a validated kind and arg.
  Created create_task(const std::string& kind, const std::string& arg,
                      std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::mw
