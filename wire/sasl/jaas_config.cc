#include "wire/sasl/jaas_config.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace corral::sasl {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '$' ||
         c == '-' || c == '*' || static_cast<unsigned char>(c) >= 0x80;
}

/// A token: a word, a quoted string, or one punctuation character ({ } ; =).
struct Token {
  enum class Kind { kWord, kQuoted, kPunct, kEnd } kind = Kind::kEnd;
  std::string text;
  int line = 0;

  bool is(char punct) const { return kind == Kind::kPunct && text.size() == 1 && text[0] == punct; }
  std::string shown() const {
    if (kind == Kind::kEnd) return "the end of the file";
    return kind == Kind::kQuoted ? '"' + text + '"' : "'" + text + "'";
  }
};

class Tokenizer {
 public:
  Tokenizer(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  [[noreturn]] void fail(int line, const std::string& problem) const {
    throw JaasError(source_ + ":" + std::to_string(line) + ": " + problem);
  }

  const Token& peek() {
    if (!peeked_) peeked_ = read();
    return *peeked_;
  }

  Token next() {
    Token t = peek();
    peeked_.reset();
    return t;
  }

 private:
  Token read() {
    skip_space_and_comments();
    Token t;
    t.line = line_;
    if (at_ == text_.size()) return t;
    char c = text_[at_];
    if (c == '"' || c == '\'') {
      t.kind = Token::Kind::kQuoted;
      t.text = quoted(c);
    } else if (is_word_char(c)) {
      t.kind = Token::Kind::kWord;
      while (at_ < text_.size() && is_word_char(text_[at_])) t.text += text_[at_++];
    } else {
      t.kind = Token::Kind::kPunct;
      t.text = std::string(1, c);
      ++at_;
    }
    return t;
  }

  std::string quoted(char quote) {
    int start_line = line_;
    std::string out;
    for (++at_; at_ < text_.size(); ++at_) {
      char c = text_[at_];
      if (c == quote) {
        ++at_;
        return out;
      }
      if (c == '\n') fail(start_line, "unterminated quoted string");
      if (c == '\\' && at_ + 1 < text_.size()) {
        c = text_[++at_];
        if (c == 'n') c = '\n';
        if (c == 't') c = '\t';
      }
      out += c;
    }
    fail(start_line, "unterminated quoted string");
  }

  void skip_space_and_comments() {
    while (at_ < text_.size()) {
      char c = text_[at_];
      if (c == '\n') ++line_;
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++at_;
      } else if (text_.substr(at_, 2) == "//") {
        while (at_ < text_.size() && text_[at_] != '\n') ++at_;
      } else if (text_.substr(at_, 2) == "/*") {
        int start_line = line_;
        size_t end = text_.find("*/", at_ + 2);
        if (end == std::string_view::npos) fail(start_line, "unterminated /* comment");
        line_ += std::count(text_.begin() + at_, text_.begin() + end, '\n');
        at_ = end + 2;
      } else {
        return;
      }
    }
  }

  std::string_view text_;
  const std::string& source_;
  size_t at_ = 0;
  int line_ = 1;
  std::optional<Token> peeked_;
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : in_(text, source) {}

  JaasConfig parse() {
    JaasConfig config;
    while (in_.peek().kind != Token::Kind::kEnd) {
      JaasSection section = parse_section();
      if (const JaasSection* first = config.section(section.name))
        in_.fail(section.line, "section " + section.name + " repeats the one at line " +
                                   std::to_string(first->line));
      config.sections.push_back(std::move(section));
    }
    return config;
  }

 private:
  Token expect_name(const std::string& what) {
    Token t = in_.next();
    if (t.kind != Token::Kind::kWord && t.kind != Token::Kind::kQuoted)
      in_.fail(t.line, "expected " + what + ", found " + t.shown());
    return t;
  }

  void expect(char punct, const std::string& where) {
    Token t = in_.next();
    if (!t.is(punct))
      in_.fail(t.line,
               "expected '" + std::string(1, punct) + "' " + where + ", found " + t.shown());
  }

  JaasSection parse_section() {
    Token name = expect_name("a section name");
    JaasSection section{name.text, {}, name.line};
    expect('{', "after section name " + name.text);
    while (!in_.peek().is('}')) section.modules.push_back(parse_module());
    in_.next();
    expect(';', "after the '}' of section " + name.text);
    return section;
  }

  LoginModuleEntry parse_module() {
    Token cls = expect_name("a login module class name or '}'");
    if (cls.kind != Token::Kind::kWord)
      in_.fail(cls.line, "expected a login module class name, found " + cls.shown());
    LoginModuleEntry entry{cls.text, {}, {}, cls.line};
    Token flag = expect_name("a control flag after " + cls.text);
    entry.flag = flag.text;
    std::transform(entry.flag.begin(), entry.flag.end(), entry.flag.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (entry.flag != "required" && entry.flag != "requisite" && entry.flag != "sufficient" &&
        entry.flag != "optional")
      in_.fail(flag.line, "invalid control flag " + flag.shown() +
                              " (expected required, requisite, sufficient or optional)");
    while (!in_.peek().is(';')) {
      if (in_.peek().kind == Token::Kind::kEnd || in_.peek().is('}'))
        in_.fail(in_.peek().line,
                 "expected ';' after the options of " + cls.text + ", found " + in_.peek().shown());
      Token key = expect_name("an option name");
      expect('=', "after option " + key.text);
      entry.options[key.text] = expect_name("a value for option " + key.text).text;
    }
    in_.next();
    return entry;
  }

  Tokenizer in_;
};

}  // namespace

std::optional<JaasAccount> JaasSection::account() const {
  for (const auto& module : modules) {
    auto user = module.options.find("username");
    auto password = module.options.find("password");
    if (user != module.options.end() && password != module.options.end())
      return JaasAccount{user->second, password->second};
  }
  return std::nullopt;
}

const JaasSection* JaasConfig::section(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

JaasConfig parse_jaas(std::string_view text, const std::string& source_name) {
  return Parser(text, source_name).parse();
}

}  // namespace corral::sasl
