#include "apps/master-worker/dashboard/rest_api.h"

#include <cpprest/uri.h>
#include <spdlog/spdlog.h>

#include "apps/master-worker/dashboard/sse_stream.h"
#include "apps/master-worker/layout.h"

namespace corral::mw {
namespace {

namespace http = web::http;
using http::methods;
using nlohmann::json;

/// Sends `response`; a client gone before the answer is no error of ours.
void send(const http::http_request& request, const http::http_response& response) {
  request.reply(response).then([](pplx::task<void> t) {
    try {
      t.get();
    } catch (...) {
    }
  });
}

void reply_json(const http::http_request& request, http::status_code status, const json& body) {
  http::http_response response(status);
  response.headers().add("Cache-Control", "no-store");
  response.set_body(body.dump(), "application/json");
  send(request, response);
}

void reply_error(const http::http_request& request, http::status_code status,
                 const std::string& message) {
  reply_json(request, status, {{"error", message}});
}

void reply_method_not_allowed(const http::http_request& request, const std::string& allowed) {
  http::http_response response(http::status_codes::MethodNotAllowed);
  response.headers().add("Allow", allowed);
  json body = {{"error", "method " + request.method() + " not allowed; use " + allowed}};
  response.set_body(body.dump(), "application/json");
  send(request, response);
}

json optional_json(const std::optional<std::string>& v) { return v ? json(*v) : json(); }

json workers_json(const View& view) {
  json out = json::array();
  for (const auto& [id, w] : view.workers) {
    out.push_back({{"id", w.id},
                   {"host", w.host},
                   {"slots", w.slots},
                   {"running", w.running},
                   {"assigned", w.assigned}});
  }
  return out;
}

json master_json(const View& view) {
  return {{"active", optional_json(view.master)},
          {"backups", view.backups},
          {"since_ms", view.master_since_ms ? json(*view.master_since_ms) : json()}};
}

json page_json(const TaskPage& page) {
  json tasks = json::array();
  for (const auto& t : page.tasks) tasks.push_back(task_json(t, false));
  return {{"total", page.total}, {"tasks", tasks}};
}

/// The query's parameters, or a 400 already sent (false).
bool query_of(const http::http_request& request, std::map<std::string, std::string>& query) {
  std::string error;
  if (parse_query(request.relative_uri().query(), query, error)) return true;
  reply_error(request, http::status_codes::BadRequest, error);
  return false;
}

}  // namespace

void RestApi::handle(const http::http_request& request) {
  try {
    std::string path = request.relative_uri().path();
    try {
      path = web::uri::decode(path);
    } catch (const std::exception&) {
      return reply_error(request, http::status_codes::BadRequest, "malformed path");
    }
    if (path == "/api" || path.rfind("/api/", 0) == 0) return route_api(request, path);
    serve_file(request, path);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", request.method(), request.relative_uri().to_string(), e.what());
    reply_error(request, http::status_codes::InternalError, e.what());
  }
}

void RestApi::route_api(const http::http_request& request, const std::string& path) {
  const auto& method = request.method();
  const bool get = method == methods::GET;
  auto only_get = [&](auto&& answer) {
    if (!get) return reply_method_not_allowed(request, "GET");
    answer();
  };
  if (path == "/api/summary")
    return only_get([&] { reply_json(request, http::status_codes::OK, c_.model.summary()); });
  if (path == "/api/master")
    return only_get(
        [&] { reply_json(request, http::status_codes::OK, master_json(*c_.model.view())); });
  if (path == "/api/workers")
    return only_get(
        [&] { reply_json(request, http::status_codes::OK, workers_json(*c_.model.view())); });
  if (path == "/api/cluster")
    return only_get([&] { reply_json(request, http::status_codes::OK, c_.cluster.json()); });
  if (path == "/api/history") return only_get([&] { get_history(request); });
  if (path == "/api/events") {
    return only_get(
        [&] { open_event_stream(request, c_.hub, sse_event("summary", c_.model.summary())); });
  }
  if (path == "/api/tasks") {
    if (get) return get_tasks(request);
    if (method == methods::POST) return post_task(request);
    return reply_method_not_allowed(request, "GET, POST");
  }
  const std::string prefix = "/api/tasks/";
  if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size()) {
    return only_get([&] { get_task(request, path.substr(prefix.size())); });
  }
  reply_error(request, http::status_codes::NotFound, "no such API: " + path);
}

void RestApi::serve_file(const http::http_request& request, const std::string& path) {
  if (request.method() != methods::GET) return reply_method_not_allowed(request, "GET");
  auto file = c_.files.find(path);
  if (!file) {
    request.reply(http::status_codes::NotFound, "not found: " + path + "\n", "text/plain");
    return;
  }
  http::http_response response(http::status_codes::OK);
  response.headers().add("Cache-Control", "no-cache");
  std::vector<unsigned char> bytes(file->body.begin(), file->body.end());
  response.set_body(std::move(bytes));
  response.headers().set_content_type(file->content_type);
  send(request, response);
}

void RestApi::get_tasks(const http::http_request& request) {
  std::map<std::string, std::string> query;
  if (!query_of(request, query)) return;
  Paging paging;
  if (auto why = parse_paging(query, true, paging); !why.empty())
    return reply_error(request, http::status_codes::BadRequest, why);
  auto page = list_tasks(*c_.model.view(), c_.history, paging);
  reply_json(request, http::status_codes::OK, page_json(page));
}

void RestApi::get_task(const http::http_request& request, const std::string& id) {
  if (!valid_task_id(id))
    return reply_error(request, http::status_codes::BadRequest,
                       "bad task id \"" + id + "\": expected task- and 10 digits");
  auto view = c_.model.view();
  if (auto it = view->tasks.find(id); it != view->tasks.end())
    return reply_json(request, http::status_codes::OK, task_json(it->second, true));
  if (auto archived = c_.history.get(id))
    return reply_json(request, http::status_codes::OK, task_json(*archived, true));
  reply_error(request, http::status_codes::NotFound, "no task " + id);
}

void RestApi::post_task(const http::http_request& request) {
  // A declared length over the limit is refused before reading the body.
  if (request.headers().content_length() > kMaxBodyBytes)
    return reply_error(request, http::status_codes::RequestEntityTooLarge,
                       "the body is over 64 KiB");
  std::string body;
  try {
    body = http::http_request(request).extract_utf8string(true).get();
  } catch (const std::exception& e) {
    return reply_error(request, http::status_codes::BadRequest,
                       std::string("unreadable body: ") + e.what());
  }
  NewTask task;
  std::string error;
  if (int status = parse_new_task(body, c_.allow_shell, task, error); status != 0)
    return reply_error(request, static_cast<http::status_code>(status), error);
  auto created = c_.model.create_task(task.kind, task.arg, std::chrono::seconds(10));
  if (created.id.empty())
    return reply_error(request, static_cast<http::status_code>(created.http_status), created.error);
  spdlog::info("created {} ({} {})", created.id, task.kind, task.arg);
  http::http_response response(http::status_codes::Created);
  response.headers().add("Location", "/api/tasks/" + created.id);
  response.set_body(json{{"id", created.id}}.dump(), "application/json");
  send(request, response);
}

void RestApi::get_history(const http::http_request& request) {
  std::map<std::string, std::string> query;
  if (!query_of(request, query)) return;
  Paging paging;
  if (auto why = parse_paging(query, false, paging); !why.empty())
    return reply_error(request, http::status_codes::BadRequest, why);
  TaskPage page;
  page.total = c_.history.count("");
  page.tasks = c_.history.list("", paging.limit, paging.offset);
  reply_json(request, http::status_codes::OK, page_json(page));
}

}  // namespace corral::mw
