// The reconfig/config side of the CLI without a server: zkCli's word flags (-add, -file),
// the hexadecimal -v, and config texts read as zkCli reads them.
#include <gtest/gtest.h>

#include <fstream>

#include "client/cli/args.h"
#include "client/cli/dynamic_config.h"

namespace corral::cli {
namespace {

TEST(ReconfigArgs, WordFlagsTakeTheNextWord) {
  InvocationParse p = parse_invocation({"reconfig", "-add", "server.5=a:1:2;3", "-remove", "4"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.text('a'), "server.5=a:1:2;3");
  EXPECT_EQ(p.invocation.text('r'), "4");
  EXPECT_FALSE(p.invocation.has('m'));
}

TEST(ReconfigArgs, VersionIsHexadecimal) {
  InvocationParse p = parse_invocation({"reconfig", "-v", "10000000a", "-members", "x"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.invocation.value('v', -1), 0x10000000a);
  EXPECT_FALSE(parse_invocation({"reconfig", "-v", "0x1", "-remove", "1"}).ok());
}

TEST(ReconfigArgs, AWordFlagIsNotItsLetterNorABundle) {
  // "-a" is not "-add", and "-add" is not -a -d -d.
  EXPECT_FALSE(parse_invocation({"reconfig", "-a", "x"}).ok());
  InvocationParse missing = parse_invocation({"reconfig", "-add"});
  EXPECT_EQ(missing.error, "-add needs a value");
  EXPECT_EQ(usage(*find_command("reconfig")),
            "reconfig [-s] [-v version] [-file path] [-members list] [-add list] [-remove ids]");
}

TEST(ClientConfigText, JavasPropertiesOrderAndEmptyClientParts) {
  // zkCli iterates a ConcurrentHashMap: server.10 (bin 0-3) before server.2 (bin 4), server.1
  // (bin 5) and server.3 (bin 11); a bare client port is 0.0.0.0's.
  std::string text =
      "server.1=127.0.0.1:1:2:participant;127.0.0.1:2181\n"
      "server.2=127.0.0.1:3:4:participant\n"
      "server.3=127.0.0.1:5:6:participant;2183\n"
      "server.10=127.0.0.1:7:8:observer;127.0.0.1:2190\n"
      "version=100000004";
  EXPECT_EQ(client_config_text(text), "100000004 127.0.0.1:2190,,127.0.0.1:2181,0.0.0.0:2183");
  EXPECT_EQ(config_version(text), "100000004");
}

TEST(MembersFile, KeepsMemberLinesAndRefusesOtherKeys) {
  std::string path = testing::TempDir() + "members.dynamic";
  std::ofstream(path) << "# comment\nserver.1 = a:1:2;3\n\nserver.2=b:1:2;3\nversion=5\n";
  MembersFile ok = read_members_file(path);
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.members, "server.1=a:1:2;3\nserver.2=b:1:2;3");
  std::ofstream(path) << "server.1=a:1:2;3\nclientPort=2181\n";
  EXPECT_EQ(read_members_file(path).error,
            "Error processing " + path + ": Unrecognised parameter: clientPort");
  EXPECT_FALSE(read_members_file(path + ".missing").ok());
}

}  // namespace
}  // namespace corral::cli
