#include "client/cli/printer.h"

namespace corral::cli {

Printer::Printer(std::ostream& out, std::ostream& err, bool json)
    : out_(out), err_(err), json_(json) {}

void Printer::result(std::string_view text, const nlohmann::json& value) {
  if (json_) {
    write(out_, json_line(value));
  } else {
    write(out_, text);
  }
}

void Printer::event(const Event& event) { result(event_text(event) + "\n", event_json(event)); }

void Printer::error(std::string_view what, std::string_view path, client::ErrorCode err) {
  if (json_) write(out_, json_line(error_json(err, path)));
  write(err_, error_line(what, err) + "\n");
}

void Printer::usage_error(const CommandSpec* spec, std::string_view what,
                          std::string_view problem) {
  std::string text = "corral: " + std::string(what) + ": " + std::string(problem) + "\n";
  if (spec != nullptr) {
    text += "usage: " + usage(*spec) + "\n";
    for (const FlagSpec& f : spec->flags) {
      text += "  " + flag_name(f) + "  " + f.meaning + "\n";
    }
  }
  write(err_, text);
}

void Printer::message(std::string_view line) { write(err_, std::string(line) + "\n"); }

void Printer::write(std::ostream& stream, std::string_view text) {
  std::lock_guard lock(mu_);
  stream << text;
  stream.flush();
}

}  // namespace corral::cli
