// Where corral's results and errors go: stdout and stderr, as text or JSON.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

#include "client/cli/args.h"
#include "client/cli/format.h"
#include "corral/client/result.h"

namespace corral::cli {

/// Writes results to `out` and messages to `err`, flushing each. Safe to use from several
/// threads at once (the shell prints watch events from the client's thread).
class Printer {
 public:
  /// `json` picks JSON lines over zkCli's text on `out`.
  Printer(std::ostream& out, std::ostream& err, bool json);

  /// True in JSON mode.
  bool json() const { return json_; }
  /// `text` in text mode, else `value` as one JSON line.
  void result(std::string_view text, const nlohmann::json& value);
  /// A watch event or change of the connection, one line.
  void event(const Event& event);
  /// A ZooKeeper error of `what` ("get /x") about `path`: a line on `err`, and in JSON mode
  /// an object on `out` too.
  void error(std::string_view what, std::string_view path, client::ErrorCode err);
  /// "corral: WHAT: PROBLEM" and the command's usage, on `err`.
  void usage_error(const CommandSpec* spec, std::string_view what, std::string_view problem);
  /// A line on `err` ("corral: " is not added).
  void message(std::string_view line);

 private:
  void write(std::ostream& stream, std::string_view text);

  std::mutex mu_;
  std::ostream& out_;
  std::ostream& err_;
  bool json_;
};

}  // namespace corral::cli
