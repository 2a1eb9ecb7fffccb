#include "wire/sasl/digest_directives.h"

#include <cctype>

namespace corral::sasl {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// Reads a directive list one element at a time.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() {
    skip_space();
    return at_ == text_.size();
  }

  // One element (possibly empty) and the comma after it. False on malformed input.
  bool element(Directives& out) {
    skip_space();
    if (take(',')) return true;
    size_t name_start = at_;
    while (at_ < text_.size() && text_[at_] != '=' && text_[at_] != ',' && !is_space(text_[at_]))
      ++at_;
    std::string name(text_.substr(name_start, at_ - name_start));
    skip_space();
    if (name.empty() || !take('=')) return false;
    skip_space();
    std::string value;
    if (take('"')) {
      if (!quoted_value(value)) return false;
    } else {
      size_t value_start = at_;
      while (at_ < text_.size() && text_[at_] != ',' && !is_space(text_[at_])) ++at_;
      value = text_.substr(value_start, at_ - value_start);
    }
    out.emplace_back(std::move(name), std::move(value));
    skip_space();
    return at_ == text_.size() || take(',');
  }

 private:
  // After the opening quote: up to the closing one, undoing backslash escapes.
  bool quoted_value(std::string& value) {
    while (at_ < text_.size()) {
      char c = text_[at_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_ == text_.size()) return false;
        c = text_[at_++];
      }
      value += c;
    }
    return false;
  }

  void skip_space() {
    while (at_ < text_.size() && is_space(text_[at_])) ++at_;
  }

  bool take(char c) {
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

std::optional<Directives> parse_directives(std::string_view text) {
  Directives out;
  Scanner scanner(text);
  while (!scanner.done())
    if (!scanner.element(out)) return std::nullopt;
  return out;
}

std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string> values_of(const Directives& directives, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : directives)
    if (same_name(n, name)) out.push_back(v);
  return out;
}

}  // namespace corral::sasl
