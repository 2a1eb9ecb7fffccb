// reconfig before its txn: plan_reconfig's checks in the order of ZooKeeper 3.8's
// PrepRequestProcessor (case OpCode.reconfig), the member lists it builds (texts as ZooKeeper
// prints them), and TxnPrep::prepare_reconfig's ACL check and txn. Cases mirror kazoo's
// TestReconfig and ZooKeeper's ReconfigTest and ReconfigFailureCasesTest.
#include "ensemble/server/reconfig_prep.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn_prep.h"
#include "wire/jute.h"

namespace corral::server {
namespace {

using wire::ErrorCode;
using wire::OpCode;
using wire::ReconfigRequest;
using zab::QuorumConfig;

constexpr int64_t kActiveVersion = 0x100000000;
constexpr int64_t kZxid = 0x100000005;

// Three voters with client parts, on distinct hosts so address clashes can be seen.
const char* const kThree =
    "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
    "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
    "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n"
    "version=100000000";

std::shared_ptr<const QuorumConfig> config(const std::string& text) {
  auto parsed = zab::parse_dynamic(text);
  EXPECT_TRUE(std::holds_alternative<QuorumConfig>(parsed)) << text;
  return std::make_shared<const QuorumConfig>(std::get<QuorumConfig>(parsed));
}

// Leader.isQuorumSynced with these servers (the leader and its synced followers) in sync.
std::function<bool(const QuorumConfig&)> synced(std::vector<int64_t> ids) {
  return [ids](const QuorumConfig& next) { return next.majority(ids); };
}

ReconfigView view_of(const std::string& active_text) {
  ReconfigView v;
  v.reconfig_enabled = true;
  v.active = config(active_text);
  v.quorum_synced = synced({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  return v;
}

ReconfigRequest incremental(std::optional<std::string> joining,
                            std::optional<std::string> leaving = std::nullopt, int64_t from = -1) {
  ReconfigRequest r;
  r.joining = std::move(joining);
  r.leaving = std::move(leaving);
  r.cur_config_id = from;
  return r;
}

ReconfigRequest members(std::string list, int64_t from = -1) {
  ReconfigRequest r;
  r.new_members = std::move(list);
  r.cur_config_id = from;
  return r;
}

ErrorCode code_of(const std::variant<QuorumConfig, ErrorCode>& planned) {
  return std::holds_alternative<ErrorCode>(planned) ? std::get<ErrorCode>(planned) : ErrorCode::kOk;
}

ErrorCode plan_code(const ReconfigRequest& r, const ReconfigView& v) {
  return code_of(plan_reconfig(r, v, kZxid));
}

// The new config's text, or the error's name.
std::string plan_text(const ReconfigRequest& r, const ReconfigView& v) {
  auto planned = plan_reconfig(r, v, kZxid);
  if (auto* err = std::get_if<ErrorCode>(&planned)) return std::string(wire::error_name(*err));
  return std::get<QuorumConfig>(planned).text();
}

// --- the order of the checks -------------------------------------------------------------------

TEST(PlanReconfigOrder, DisabledComesFirst) {
  ReconfigView v = view_of(kThree);
  v.reconfig_enabled = false;
  v.standalone = true;
  EXPECT_EQ(plan_code(members("some thing", 42), v), ErrorCode::kReconfigDisabled);
}

TEST(PlanReconfigOrder, StandaloneIsUnimplementedBeforeAnythingElse) {
  ReconfigView v;
  v.reconfig_enabled = true;
  v.standalone = true;  // no config at all: nothing past this check may look at one
  EXPECT_EQ(plan_code(incremental("some thing", std::nullopt, 42), v), ErrorCode::kUnimplemented);
}

TEST(PlanReconfigOrder, InProgressBeforeBadVersion) {
  ReconfigView v = view_of(kThree);
  auto pending = std::make_shared<QuorumConfig>(*v.active);
  pending->version = 0x100000003;
  v.last_seen = pending;
  EXPECT_EQ(plan_code(incremental("some thing", std::nullopt, 42), v),
            ErrorCode::kReconfigInProgress);
  // A last-seen config equal to the active one is no reconfig in progress.
  v.last_seen = v.active;
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3"), v), ErrorCode::kOk);
}

TEST(PlanReconfigOrder, BadVersionBeforeTheMembersAreParsed) {
  // ReconfigFailureCasesTest.testReconfigVersionConditionFails; kazoo's from_config=curver+1.
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_code(incremental("some thing", std::nullopt, kActiveVersion + 1), v),
            ErrorCode::kBadVersion);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3", 8), v), ErrorCode::kBadVersion);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3", kActiveVersion), v), ErrorCode::kOk);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3", -1), v), ErrorCode::kOk);
}

TEST(PlanReconfigOrder, BadInputBeforeTooFewVoters) {
  // kazoo's test_bad_input: 'some thing' is no server.N=spec.
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_code(incremental("some thing", "2,3"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.x=10.0.0.9:1:2;3", "2,3"), v),
            ErrorCode::kMarshallingError);
}

TEST(PlanReconfigOrder, TooFewVotersBeforeNoQuorum) {
  // ReconfigFailureCasesTest.testTooFewRemainingPariticipants.
  ReconfigView v = view_of(kThree);
  v.quorum_synced = synced({});
  EXPECT_EQ(plan_code(incremental(std::nullopt, "2,3"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3"), v), ErrorCode::kNewConfigNoQuorum);
}

TEST(PlanReconfigOrder, QuorumIsJudgedOnTheNewConfig) {
  // ReconfigFailureCasesTest.testObserverToParticipantConversionFails: server 0 is down, 3 is
  // an observer (its sync does not count), so {1, 2} are 2 of the 4 new voters: no quorum.
  ReconfigView v = view_of(
      "server.0=10.0.0.10:2888:3888:participant;2181\n"
      "server.1=10.0.0.1:2888:3888:participant;2181\n"
      "server.2=10.0.0.2:2888:3888:participant;2181\n"
      "server.3=10.0.0.3:2888:3888:observer;2181\nversion=100000000");
  v.quorum_synced = synced({1, 2});
  std::string all_voters =
      "server.0=10.0.0.10:2888:3888:participant;2181\n"
      "server.1=10.0.0.1:2888:3888:participant;2181\n"
      "server.2=10.0.0.2:2888:3888:participant;2181\n"
      "server.3=10.0.0.3:2888:3888:participant;2181";
  EXPECT_EQ(plan_code(members(all_voters), v), ErrorCode::kNewConfigNoQuorum);
  // Removing the observer first works: 1 and 2 hold 2 of the 3 voters.
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3"), v), ErrorCode::kOk);
}

// --- incremental changes -----------------------------------------------------------------------

TEST(PlanReconfigIncremental, KazooAddsAndRemovesAnObserver) {
  ReconfigView v = view_of(kThree);
  std::string joining = "server.100=0.0.0.0:40001:40002:observer;0.0.0.0:40003";
  auto planned = plan_reconfig(incremental(joining), v, kZxid);
  ASSERT_EQ(code_of(planned), ErrorCode::kOk);
  const QuorumConfig& added = std::get<QuorumConfig>(planned);
  EXPECT_EQ(added.text(),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
            "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n"
            "server.100=0.0.0.0:40001:40002:observer;0.0.0.0:40003\n"
            "version=100000005");

  v.active = std::make_shared<const QuorumConfig>(added);
  EXPECT_EQ(plan_text(incremental(std::nullopt, "100", kZxid), v),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
            "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n"
            "version=100000005");
}

TEST(PlanReconfigIncremental, ListsAreTrimmedAndRolesLowerCased) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_text(incremental(" server.5 = 10.0.0.5:2888:3888:OBSERVER;2181 , ,", " 3 ,, "), v),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
            "server.5=10.0.0.5:2888:3888:observer;0.0.0.0:2181\n"
            "version=100000005");
}

TEST(PlanReconfigIncremental, TheIdIsWhatFollowsTheLastDot) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(
      plan_text(incremental("4=10.0.0.4:2888:3888;2181,a.b.server.6=10.0.0.6:2888:3888;2181"), v),
      "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
      "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
      "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n"
      "server.4=10.0.0.4:2888:3888:participant;0.0.0.0:2181\n"
      "server.6=10.0.0.6:2888:3888:participant;0.0.0.0:2181\n"
      "version=100000005");
}

TEST(PlanReconfigIncremental, AnExistingIdIsReplaced) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_text(incremental("server.3=10.0.0.3:2888:3888:observer;10.0.0.3:2191"), v),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
            "server.3=10.0.0.3:2888:3888:observer;10.0.0.3:2191\n"
            "version=100000005");
}

TEST(PlanReconfigIncremental, UnknownLeavingIdsAreIgnored) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_text(incremental(std::nullopt, "42"), v),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
            "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n"
            "version=100000005");
}

TEST(PlanReconfigIncremental, MalformedListsGetZooKeepersCodes) {
  ReconfigView v = view_of(kThree);
  // Java's NumberFormatException reaches PrepRequestProcessor's generic catch.
  EXPECT_EQ(plan_code(incremental(std::nullopt, "two"), v), ErrorCode::kMarshallingError);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "3 4"), v), ErrorCode::kMarshallingError);
  EXPECT_EQ(plan_code(incremental("server.=10.0.0.9:1:2;3"), v), ErrorCode::kMarshallingError);
  // Not one `=`, or a spec QuorumServer refuses: BADARGUMENTS.
  EXPECT_EQ(plan_code(incremental("server.5"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.5=a:1:2;3=x"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888;2181"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888:2888;2181"), v),
            ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888:3888:voter;2181"), v),
            ErrorCode::kBadArguments);
  // A port out of range makes InetSocketAddress throw past the ConfigException handler.
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888:70000;2181"), v),
            ErrorCode::kMarshallingError);
}

TEST(PlanReconfigIncremental, AJoinerNeedsAllThreePorts) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888:3888"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.5=10.0.0.5:2888:3888:participant"), v),
            ErrorCode::kBadArguments);
  // A member list (non-incremental) may leave the client part out.
  EXPECT_EQ(plan_code(members("server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888"), v),
            ErrorCode::kOk);
}

TEST(PlanReconfigIncremental, ClashingAddressesAreRefused) {
  ReconfigView v = view_of(kThree);
  // server.1's quorum address, its election address, and a client address on a quorum one.
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.1:2888:3999;2181"), v),
            ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.1:2999:3888;2181"), v),
            ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.4:2888:3888;10.0.0.2:2888"), v),
            ErrorCode::kBadArguments);
  // Host names compare case-insensitively; IP literals by their address.
  ReconfigView named = view_of(
      "server.1=zk1.example:2888:3888;2181\nserver.2=zk2.example:2888:3888;2181\n"
      "server.3=[::ffff:a00:3]:2888:3888;2181\nversion=100000000");
  EXPECT_EQ(plan_code(incremental("server.4=ZK1.Example:2888:3999;2181"), named),
            ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.4=[0:0:0:0:0:ffff:a00:3]:2888:3999;2181"), named),
            ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.3:2888:3999;2181"), named),
            ErrorCode::kBadArguments);
  // The same addresses on other ports, or on the replaced id itself, do not clash.
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.1:2889:3889;2182"), v), ErrorCode::kOk);
  EXPECT_EQ(plan_code(incremental("server.1=10.0.0.1:2888:3888:observer;2181"), v), ErrorCode::kOk);
  // Leaving first frees the addresses for a joiner.
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.1:2888:3888;2181", "1"), v), ErrorCode::kOk);
  // Joiners are checked against the joiners before them too.
  EXPECT_EQ(plan_code(incremental("server.4=10.0.0.4:2888:3888;2181,"
                                  "server.5=10.0.0.4:2888:3999;2181"),
                      v),
            ErrorCode::kBadArguments);
}

TEST(PlanReconfigIncremental, WildcardAndLoopbackAddressesNeverClash) {
  // ZooKeeper's own tests run every member on 127.0.0.1 and kazoo's observer on 0.0.0.0.
  ReconfigView v = view_of(
      "server.1=127.0.0.1:2888:3888;2181\nserver.2=localhost:2889:3889;2182\n"
      "server.3=0.0.0.0:2890:3890;2183\nversion=100000000");
  EXPECT_EQ(plan_code(incremental("server.4=127.0.0.1:2888:3888;127.0.0.1:2181"), v),
            ErrorCode::kOk);
  EXPECT_EQ(plan_code(incremental("server.4=LocalHost:2889:3889;[::1]:2182"), v), ErrorCode::kOk);
  EXPECT_EQ(plan_code(incremental("server.4=[::]:2890:3890;0.0.0.0:2183"), v), ErrorCode::kOk);
  EXPECT_EQ(plan_code(incremental("server.4=127.1.2.3:2890:3890;2183"), v), ErrorCode::kOk);
}

TEST(PlanReconfigIncremental, ObserversWithoutVotersAreTooFewVoters) {
  // The incremental path builds a QuorumMaj directly: no IllegalArgumentException.
  ReconfigView v = view_of(std::string(kThree) + "\nserver.4=10.0.0.4:2888:3888:observer;2181");
  EXPECT_EQ(plan_code(incremental(std::nullopt, "1,2,3"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(incremental(std::nullopt, "1,2"), v), ErrorCode::kBadArguments);
}

TEST(PlanReconfigIncremental, OneVoterIsEnoughWithoutStandalone) {
  ReconfigView v = view_of(kThree);
  v.standalone_enabled = false;
  EXPECT_EQ(plan_text(incremental(std::nullopt, "2,3"), v),
            "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000005");
  EXPECT_EQ(plan_code(incremental(std::nullopt, "1,2,3"), v), ErrorCode::kBadArguments);
}

// --- non-incremental member lists --------------------------------------------------------------

TEST(PlanReconfigMembers, CommasSeparateLinesAndTheVersionIsTheZxid) {
  ReconfigView v = view_of(kThree);
  ReconfigRequest r = members(
      "server.1=localhost:2888:3888:participant,server.2=localhost:2889:3889:participant;2182,"
      "server.100=0.0.0.0:5:6:observer;0.0.0.0:7,version=3");
  r.joining = "ignored: a member list wins";
  EXPECT_EQ(plan_text(r, v),
            "server.1=localhost:2888:3888:participant\n"
            "server.2=localhost:2889:3889:participant;0.0.0.0:2182\n"
            "server.100=0.0.0.0:5:6:observer;0.0.0.0:7\n"
            "version=100000005");
}

TEST(PlanReconfigMembers, BadListsGetZooKeepersCodes) {
  ReconfigView v = view_of(kThree);
  EXPECT_EQ(plan_code(members("some thing"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(members("clientPort=2181"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(members("group.1=1:2:3\nweight.1=1"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(members("server.one=10.0.0.1:2888:3888"), v), ErrorCode::kMarshallingError);
}

TEST(PlanReconfigMembers, ObserversNeedAQuorum) {
  ReconfigView v = view_of(kThree);
  // QuorumPeerConfig.parseDynamicConfig: IllegalArgumentException -> MARSHALLINGERROR.
  EXPECT_EQ(plan_code(members("server.4=10.0.0.4:2888:3888:observer"), v),
            ErrorCode::kMarshallingError);
  EXPECT_EQ(
      plan_code(members("server.1=10.0.0.1:2888:3888\nserver.4=10.0.0.4:2888:3888:observer"), v),
      ErrorCode::kMarshallingError);
  // One voter alone passes the parser (the HBase case) but is too few.
  EXPECT_EQ(plan_code(members("server.1=10.0.0.1:2888:3888"), v), ErrorCode::kBadArguments);
  EXPECT_EQ(plan_code(members(""), v), ErrorCode::kBadArguments);
}

TEST(PlanReconfigMembers, WithoutStandaloneOneVoterIsAConfig) {
  ReconfigView v = view_of(kThree);
  v.standalone_enabled = false;
  EXPECT_EQ(
      plan_text(members("server.1=10.0.0.1:2888:3888\nserver.4=10.0.0.4:2888:3888:observer"), v),
      "server.1=10.0.0.1:2888:3888:participant\n"
      "server.4=10.0.0.4:2888:3888:observer\n"
      "version=100000005");
  // No voter at all is the parser's IllegalArgumentException here.
  EXPECT_EQ(plan_code(members(""), v), ErrorCode::kMarshallingError);
}

// --- with the ACL check after it (kazoo's TestReconfig) ------------------------------------------

// What the leader answers: plan_reconfig's code, else prepare_reconfig's.
ErrorCode reconfigure(const ReconfigRequest& r, const tree::AuthIds& ids) {
  tree::DataTree tree;
  tree::TxnPrep prep(tree, true);
  auto planned = plan_reconfig(r, view_of(kThree), kZxid);
  if (auto* err = std::get_if<ErrorCode>(&planned)) return *err;
  tree::Txn txn = prep.prepare_reconfig(tree::PrepContext{1, 1, kZxid, 0, &ids},
                                        std::get<QuorumConfig>(planned).text());
  return txn.type == OpCode::kError ? txn.err : ErrorCode::kOk;
}

TEST(Reconfigure, BadInputIsToldBeforeTheMissingAuth) {
  tree::AuthIds anyone{{"ip", "127.0.0.1"}};
  tree::AuthIds super{{"ip", "127.0.0.1"}, {"super", ""}};
  // test_bad_input, without auth: BADARGUMENTS, as ZooKeeper checks the ACL last.
  EXPECT_EQ(reconfigure(incremental("some thing"), anyone), ErrorCode::kBadArguments);
  // test_no_super_auth: a valid joiner without super is NOAUTH.
  ReconfigRequest observer = incremental("server.999=0.0.0.0:1234:2345:observer;3456");
  EXPECT_EQ(reconfigure(observer, anyone), ErrorCode::kNoAuth);
  EXPECT_EQ(reconfigure(observer, super), ErrorCode::kOk);
  // A stale version is BADVERSION with or without auth.
  observer.cur_config_id = kActiveVersion + 1;
  EXPECT_EQ(reconfigure(observer, anyone), ErrorCode::kBadVersion);
}

// --- decoding ----------------------------------------------------------------------------------

TEST(DecodeReconfig, AMalformedBodyIsAMarshallingError) {
  ReconfigRequest r = incremental("server.5=10.0.0.5:2888:3888;2181", "1", 7);
  std::string body;
  wire::JuteWriter w(body);
  r.write(w);
  auto decoded = decode_reconfig(body);
  ASSERT_TRUE(std::holds_alternative<ReconfigRequest>(decoded));
  EXPECT_EQ(std::get<ReconfigRequest>(decoded).joining, r.joining);
  EXPECT_EQ(std::get<ReconfigRequest>(decoded).new_members, std::nullopt);
  EXPECT_EQ(std::get<ReconfigRequest>(decoded).cur_config_id, 7);
  auto truncated = decode_reconfig(std::string_view(body).substr(0, body.size() - 1));
  ASSERT_TRUE(std::holds_alternative<ErrorCode>(truncated));
  EXPECT_EQ(std::get<ErrorCode>(truncated), ErrorCode::kMarshallingError);
}

}  // namespace
}  // namespace corral::server
