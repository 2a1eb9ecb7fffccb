// The corral CLI's parsing and formatting, without a server.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "client/cli/acl_text.h"
#include "client/cli/args.h"
#include "client/cli/events.h"
#include "client/cli/format.h"
#include "client/cli/printer.h"
#include "client/cli/recipe_args.h"
#include "wire/protocol.h"

namespace corral::cli {
namespace {

using client::ErrorCode;
using client::EventType;
namespace perms = wire::perms;

// ---- ACLs ----

TEST(ParseAcl, WorldAnyone) {
  AclParse p = parse_acl("world:anyone:cdrwa");
  ASSERT_TRUE(p.ok()) << p.error;
  ASSERT_EQ(p.acl.size(), 1u);
  EXPECT_EQ(p.acl[0].id.scheme, "world");
  EXPECT_EQ(p.acl[0].id.id, "anyone");
  EXPECT_EQ(p.acl[0].perms, perms::kAll);
}

TEST(ParseAcl, SeveralEntriesAndIdsWithColons) {
  AclParse p = parse_acl("world:anyone:r,digest:user:abc/DEF=:rw,ip:127.0.0.1:cd,auth::cdrwa");
  ASSERT_TRUE(p.ok()) << p.error;
  ASSERT_EQ(p.acl.size(), 4u);
  EXPECT_EQ(p.acl[0].perms, perms::kRead);
  EXPECT_EQ(p.acl[1].id.scheme, "digest");
  EXPECT_EQ(p.acl[1].id.id, "user:abc/DEF=");
  EXPECT_EQ(p.acl[1].perms, perms::kRead | perms::kWrite);
  EXPECT_EQ(p.acl[2].id.id, "127.0.0.1");
  EXPECT_EQ(p.acl[2].perms, perms::kCreate | perms::kDelete);
  EXPECT_EQ(p.acl[3].id.scheme, "auth");
  EXPECT_EQ(p.acl[3].id.id, "");
  EXPECT_EQ(p.acl[3].perms, perms::kAll);
}

TEST(ParseAcl, Rejects) {
  for (const char* bad : {"", "world:anyone", "world", ":anyone:r", "world:anyone:rx",
                          "world:anyone:r,", ",world:anyone:r", "world:anyone:r,,ip:1:r"}) {
    AclParse p = parse_acl(bad);
    EXPECT_FALSE(p.ok()) << bad;
    EXPECT_TRUE(p.acl.empty()) << bad;
  }
}

TEST(ParseAcl, EmptyPermissionsAreNone) {
  AclParse p = parse_acl("world:anyone:");
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.acl[0].perms, 0);
}

TEST(Perms, LettersInAnyOrderPrintInZkClisOrder) {
  EXPECT_EQ(parse_perms("awrdc"), perms::kAll);
  EXPECT_EQ(parse_perms("rr"), perms::kRead);
  EXPECT_EQ(parse_perms("q"), -1);
  EXPECT_EQ(perm_string(perms::kAll), "cdrwa");
  EXPECT_EQ(perm_string(perms::kAdmin | perms::kRead), "ra");
  EXPECT_EQ(perm_string(0), "");
}

TEST(Perms, AclStringRoundTrips) {
  const char* text = "digest:bob:h4sh=:rw";
  AclParse p = parse_acl(text);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(acl_string(p.acl[0]), text);
}

// ---- Commands and their flags ----

InvocationParse parse(std::vector<std::string> words) { return parse_invocation(words); }

TEST(ParseInvocation, SwitchesAndPath) {
  InvocationParse p = parse({"get", "-s", "-w", "/x"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.spec->id, CommandId::kGet);
  EXPECT_TRUE(p.invocation.has('s'));
  EXPECT_TRUE(p.invocation.has('w'));
  EXPECT_EQ(p.invocation.args, std::vector<std::string>{"/x"});
}

TEST(ParseInvocation, FlagsAnywhereAndBundled) {
  InvocationParse p = parse({"create", "/x", "-es", "data"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_TRUE(p.invocation.has('e'));
  EXPECT_TRUE(p.invocation.has('s'));
  EXPECT_FALSE(p.invocation.has('c'));
  EXPECT_EQ(p.invocation.args, (std::vector<std::string>{"/x", "data"}));
}

TEST(ParseInvocation, ValuedFlags) {
  InvocationParse p = parse({"set", "-v", "3", "/x", "d"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.value('v', -1), 3);
  p = parse({"set", "-v7", "/x", "d"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.value('v', -1), 7);
  p = parse({"delete", "-v", "-1", "/x"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.value('v', 5), -1);
  p = parse({"create", "-t", "60000", "/x"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.value('t', -1), 60000);
  EXPECT_EQ(p.invocation.value('v', -1), -1);
}

TEST(ParseInvocation, BadValues) {
  EXPECT_FALSE(parse({"set", "-v", "x", "/x", "d"}).ok());
  EXPECT_FALSE(parse({"set", "-v", "-2", "/x", "d"}).ok());
  EXPECT_FALSE(parse({"set", "-v", "2147483648", "/x", "d"}).ok());
  EXPECT_FALSE(parse({"create", "-t", "0", "/x"}).ok());
  EXPECT_FALSE(parse({"set", "/x", "d", "-v"}).ok());
}

TEST(ParseInvocation, DoubleDashEndsFlags) {
  InvocationParse p = parse({"set", "/x", "--", "-1"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.args, (std::vector<std::string>{"/x", "-1"}));
  EXPECT_FALSE(parse({"set", "/x", "-1"}).ok());
}

TEST(ParseInvocation, Errors) {
  InvocationParse p = parse({"frobnicate", "/x"});
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.invocation.spec, nullptr);
  p = parse({"get", "-x", "/x"});
  EXPECT_EQ(p.error, "unknown flag -x");
  ASSERT_NE(p.invocation.spec, nullptr);
  EXPECT_EQ(p.invocation.spec->name, "get");
  EXPECT_EQ(parse({"get"}).error, "missing argument");
  EXPECT_EQ(parse({"get", "/a", "/b"}).error, "too many arguments");
  EXPECT_EQ(parse({"create", "/a", "d", "world:anyone:r", "x"}).error, "too many arguments");
  EXPECT_FALSE(parse({}).ok());
}

TEST(ParseInvocation, OptionalArgumentsAndAliases) {
  InvocationParse p = parse({"getEphemerals"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.arg(0, "/"), "/");
  EXPECT_EQ(parse({"exit"}).invocation.spec->id, CommandId::kQuit);
  EXPECT_TRUE(parse({"whoami"}).ok());
  EXPECT_FALSE(parse({"whoami", "x"}).ok());
}

TEST(Usage, LikeZkCli) {
  EXPECT_EQ(usage(*find_command("get")), "get [-s] [-w] path");
  EXPECT_EQ(usage(*find_command("ls")), "ls [-s] [-w] [-R] path");
  EXPECT_EQ(usage(*find_command("set")), "set [-s] [-v version] path data");
  EXPECT_EQ(usage(*find_command("create")), "create [-e] [-s] [-c] [-t ttl] path [data] [acl]");
  EXPECT_EQ(usage(*find_command("setAcl")), "setAcl [-s] [-v version] path acl");
  EXPECT_EQ(usage(*find_command("whoami")), "whoami");
  for (const CommandSpec& spec : command_table()) {
    EXPECT_NE(help_text().find(usage(spec)), std::string::npos) << spec.name;
  }
}

// ---- corral's own options ----

GlobalParse parse_global(std::vector<std::string> argv) { return parse_global_options(argv); }

TEST(GlobalOptions, Defaults) {
  GlobalParse g = parse_global({});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.options.hosts, "127.0.0.1:2181");
  EXPECT_EQ(g.options.timeout.count(), 10000);
  EXPECT_FALSE(g.options.json);
  EXPECT_TRUE(g.options.command.empty());
}

TEST(GlobalOptions, AllOfThemThenTheCommand) {
  GlobalParse g = parse_global({"-s", "h1:1,h2:2/app", "--timeout=500", "--json", "--readonly",
                                "-a", "digest:u:p", "get", "-s", "/x"});
  ASSERT_TRUE(g.ok()) << g.error;
  EXPECT_EQ(g.options.hosts, "h1:1,h2:2/app");
  EXPECT_EQ(g.options.timeout.count(), 500);
  EXPECT_TRUE(g.options.json);
  EXPECT_TRUE(g.options.read_only);
  EXPECT_EQ(g.options.auths, std::vector<std::string>{"digest:u:p"});
  EXPECT_EQ(g.options.command, (std::vector<std::string>{"get", "-s", "/x"}));
}

TEST(GlobalOptions, Errors) {
  EXPECT_FALSE(parse_global({"--bogus", "ls", "/"}).ok());
  EXPECT_FALSE(parse_global({"-s"}).ok());
  EXPECT_FALSE(parse_global({"--timeout", "soon"}).ok());
  EXPECT_FALSE(parse_global({"--timeout", "0"}).ok());
  EXPECT_FALSE(parse_global({"--auth", "nocolon"}).ok());
  EXPECT_TRUE(parse_global({"--help"}).options.help);
}

// ---- Shell lines ----

TEST(SplitLine, WordsAndQuotes) {
  EXPECT_EQ(split_line("  set /a  b ").words, (std::vector<std::string>{"set", "/a", "b"}));
  EXPECT_EQ(split_line("set /a \"hello world\"").words,
            (std::vector<std::string>{"set", "/a", "hello world"}));
  EXPECT_EQ(split_line("set /a 'it''s' x\\ y \"q\\\"\"").words,
            (std::vector<std::string>{"set", "/a", "its", "x y", "q\""}));
  EXPECT_EQ(split_line("set /a ''").words, (std::vector<std::string>{"set", "/a", ""}));
  EXPECT_EQ(split_line("set /a 'a\\b'").words, (std::vector<std::string>{"set", "/a", "a\\b"}));
}

TEST(SplitLine, CommentsBlanksAndErrors) {
  EXPECT_TRUE(split_line("   ").words.empty());
  EXPECT_TRUE(split_line("  # a comment").words.empty());
  EXPECT_EQ(split_line("set /a #x").words, (std::vector<std::string>{"set", "/a", "#x"}));
  EXPECT_FALSE(split_line("set /a \"open").ok());
  EXPECT_FALSE(split_line("set /a 'open").ok());
}

// ---- Output ----

class FormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    old_tz_ = tz != nullptr ? std::optional<std::string>(tz) : std::nullopt;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (old_tz_) {
      setenv("TZ", old_tz_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  static client::Stat sample_stat() {
    client::Stat s;
    s.czxid = 0x2;
    s.mzxid = 0x1f;
    s.ctime = 1700000000123;
    s.mtime = 1700000001000;
    s.version = 3;
    s.cversion = 4;
    s.aversion = 1;
    s.ephemeral_owner = 0x10000abcdef0001;
    s.data_length = 5;
    s.num_children = 2;
    s.pzxid = 0x20;
    return s;
  }

 private:
  std::optional<std::string> old_tz_;
};

TEST_F(FormatTest, JavaDateAndHex) {
  EXPECT_EQ(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
  EXPECT_EQ(java_date(1700000000123), "Tue Nov 14 22:13:20 UTC 2023");
  EXPECT_EQ(java_hex(0), "0x0");
  EXPECT_EQ(java_hex(0x1f), "0x1f");
  EXPECT_EQ(java_hex(-1), "0xffffffffffffffff");
}

TEST_F(FormatTest, StatLikeZkCli) {
  EXPECT_EQ(stat_text(sample_stat()),
            "cZxid = 0x2\n"
            "ctime = Tue Nov 14 22:13:20 UTC 2023\n"
            "mZxid = 0x1f\n"
            "mtime = Tue Nov 14 22:13:21 UTC 2023\n"
            "pZxid = 0x20\n"
            "cversion = 4\n"
            "dataVersion = 3\n"
            "aclVersion = 1\n"
            "ephemeralOwner = 0x10000abcdef0001\n"
            "dataLength = 5\n"
            "numChildren = 2\n");
}

TEST_F(FormatTest, StatJson) {
  nlohmann::json j = stat_json(sample_stat());
  EXPECT_EQ(j["czxid"], 2);
  EXPECT_EQ(j["mzxid"], 0x1f);
  EXPECT_EQ(j["ctime"], 1700000000123);
  EXPECT_EQ(j["mtime"], 1700000001000);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["cversion"], 4);
  EXPECT_EQ(j["aversion"], 1);
  EXPECT_EQ(j["ephemeralOwner"], 0x10000abcdef0001);
  EXPECT_EQ(j["dataLength"], 5);
  EXPECT_EQ(j["numChildren"], 2);
  EXPECT_EQ(j["pzxid"], 0x20);
  EXPECT_EQ(j.size(), 11u);
}

TEST(Format, Lists) {
  EXPECT_EQ(list_text({}), "[]");
  EXPECT_EQ(list_text({"b", "a", "c"}), "[a, b, c]");
}

TEST(Format, AclLikeZkCli) {
  // Commas, percent signs and braces in ids are escaped as jute's Id.toString does.
  client::AclList acl = {{perms::kRead, {"world", "anyone"}}, {perms::kAll, {"digest", "u:h,a%}"}}};
  EXPECT_EQ(acl_text(acl), "'world,'anyone\n: r\n'digest,'u:h%2Ca%25%7D\n: cdrwa\n");
  EXPECT_EQ(acl_json(acl).dump(), R"([{"id":"anyone","perms":"r","scheme":"world"},)"
                                  R"({"id":"u:h,a%}","perms":"cdrwa","scheme":"digest"}])");
}

TEST(Format, Events) {
  Event data{client::ConnectionState::kConnected, EventType::kNodeDataChanged, "/x"};
  EXPECT_EQ(event_text(data), "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x");
  EXPECT_EQ(event_json(data).dump(),
            R"({"path":"/x","state":"SyncConnected","type":"NodeDataChanged"})");
  Event lost{client::ConnectionState::kSuspended, EventType::kNone, ""};
  EXPECT_EQ(event_text(lost), "WatchedEvent state:Disconnected type:None path:null");
  EXPECT_EQ(event_json(lost).dump(), R"({"path":null,"state":"Disconnected","type":"None"})");
  EXPECT_EQ(event_type_name(EventType::kNodeChildrenChanged), "NodeChildrenChanged");
  EXPECT_EQ(event_type_name(EventType::kPersistentWatchRemoved), "PersistentWatchRemoved");
  EXPECT_EQ(keeper_state_name(client::ConnectionState::kLost), "Expired");
}

TEST(Format, Errors) {
  EXPECT_EQ(error_line("get /x", ErrorCode::kNoNode),
            "corral: get /x: ZNONODE (node does not exist)");
  EXPECT_EQ(error_line("set /x", ErrorCode::kBadVersion),
            "corral: set /x: ZBADVERSION (version does not match)");
  EXPECT_EQ(error_json(ErrorCode::kNoNode, "/x").dump(),
            R"({"code":-101,"error":"ZNONODE","message":"node does not exist","path":"/x"})");
  EXPECT_FALSE(error_json(ErrorCode::kAuthFailed, "").contains("path"));
  EXPECT_EQ(error_json(ErrorCode::kAuthFailed, "")["code"], -115);
}

TEST(Format, JsonLineSurvivesBinaryData) {
  std::string line = json_line({{"data", std::string("a\xff", 2)}});
  EXPECT_EQ(line, "{\"data\":\"a\xEF\xBF\xBD\"}\n");
}

TEST(PrinterTest, TextOrJson) {
  std::ostringstream out, err;
  Printer text(out, err, false);
  text.result("[a]\n", {{"children", {"a"}}});
  text.error("get /x", "/x", ErrorCode::kNoNode);
  EXPECT_EQ(out.str(), "[a]\n");
  EXPECT_EQ(err.str(), "corral: get /x: ZNONODE (node does not exist)\n");

  std::ostringstream jout, jerr;
  Printer json(jout, jerr, true);
  json.result("[a]\n", {{"children", {"a"}}});
  json.error("get /x", "/x", ErrorCode::kNoNode);
  EXPECT_EQ(jout.str(),
            "{\"children\":[\"a\"]}\n"
            "{\"code\":-101,\"error\":\"ZNONODE\",\"message\":\"node does not exist\","
            "\"path\":\"/x\"}\n");
  EXPECT_EQ(jerr.str(), "corral: get /x: ZNONODE (node does not exist)\n");
}

TEST(PrinterTest, UsageErrorShowsTheCommand) {
  std::ostringstream out, err;
  Printer p(out, err, false);
  p.usage_error(find_command("delete"), "delete", "missing argument");
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            "corral: delete: missing argument\n"
            "usage: delete [-v version] path\n"
            "  -v  only if the version matches\n");
}

TEST(EventQueueTest, PopsInOrderAndTimesOut) {
  EventQueue q;
  EXPECT_FALSE(q.pop(std::chrono::milliseconds(1)).has_value());
  q.push(Event{client::ConnectionState::kConnected, EventType::kNodeCreated, "/a"});
  q.push(Event{client::ConnectionState::kConnected, EventType::kNodeDeleted, "/a"});
  EXPECT_EQ(q.pop(std::chrono::milliseconds(1))->type, EventType::kNodeCreated);
  EXPECT_EQ(q.pop(std::chrono::milliseconds(1))->type, EventType::kNodeDeleted);
  q.push(Event{});
  q.clear();
  EXPECT_FALSE(q.pop(std::chrono::milliseconds(1)).has_value());
}

// ---------------------------------------------------------------- recipe commands

RecipeParse recipe(std::vector<std::string> words) { return parse_recipe_command(words); }

TEST(RecipeArgs, LockTakesATimeoutInSecondsAndTheCommandAfterDashDash) {
  auto r = recipe({"lock", "/locks/a", "--timeout", "2.5", "--", "make", "-j", "--timeout"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.command.verb, RecipeVerb::kLock);
  EXPECT_EQ(r.command.path, "/locks/a");
  ASSERT_TRUE(r.command.timeout.has_value());
  EXPECT_EQ(r.command.timeout->count(), 2500);
  EXPECT_EQ(r.command.command, (std::vector<std::string>{"make", "-j", "--timeout"}));
  EXPECT_FALSE(recipe({"lock", "/a", "--", "x"}).command.timeout.has_value());
}

TEST(RecipeArgs, BadInputIsRefusedWithAReason) {
  EXPECT_EQ(recipe({"lock", "/a"}).error, "give the command to run after --");
  EXPECT_NE(recipe({"lock", "a", "--", "x"}).error.find("path must start with /"),
            std::string::npos);
  EXPECT_NE(recipe({"lock", "/a", "--timeout", "-1", "--", "x"}).error.find("--timeout"),
            std::string::npos);
  EXPECT_NE(recipe({"lock", "/a", "--timeout", "x", "--", "x"}).error.find("--timeout"),
            std::string::npos);
  EXPECT_EQ(recipe({"lock", "/a", "--timeout"}).error, "--timeout needs a value");
  EXPECT_EQ(recipe({"lock", "/a", "--bogus", "--", "x"}).error, "unknown option --bogus");
  EXPECT_EQ(recipe({"barrier"}).error, "barrier needs a subcommand");
  EXPECT_EQ(recipe({"barrier", "open", "/b"}).error, "unknown subcommand 'open' of barrier");
  EXPECT_EQ(recipe({"counter", "add", "/c", "1x"}).error, "counter add needs an integer, got '1x'");
  EXPECT_EQ(recipe({"group", "ls", "/g", "--", "x"}).error,
            "this command runs nothing: drop the --");
  EXPECT_EQ(recipe({"barrier", "wait", "/b", "--list"}).error, "--list is only for elect");
  EXPECT_EQ(recipe({"group", "join", "/g"}).error, "expected 2 argument(s), got 1");
}

TEST(RecipeArgs, ElectGroupCounterAndBarrierForms) {
  auto e = recipe({"elect", "/e", "--data", "node-1", "--", "run"});
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_EQ(e.command.verb, RecipeVerb::kElect);
  EXPECT_EQ(e.command.data, "node-1");
  EXPECT_EQ(recipe({"elect", "--list", "/e"}).command.verb, RecipeVerb::kElectList);
  auto g = recipe({"group", "join", "/g", "w1", "--data", "{}"});
  ASSERT_TRUE(g.ok()) << g.error;
  EXPECT_EQ(g.command.id, "w1");
  EXPECT_EQ(g.command.data, "{}");
  auto c = recipe({"counter", "add", "/c", "-5"});
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.command.delta, -5);
  EXPECT_EQ(recipe({"barrier", "wait", "/b", "--timeout", "0"}).command.verb,
            RecipeVerb::kBarrierWait);
  EXPECT_TRUE(is_recipe_command("lock"));
  EXPECT_FALSE(is_recipe_command("ls"));
  EXPECT_NE(global_usage().find("lock PATH [--timeout S] -- COMMAND..."), std::string::npos);
}

}  // namespace
}  // namespace corral::cli
