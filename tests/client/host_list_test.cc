// The connect string's hosts: how each is parsed and written back (Client::server() shows the
// one connected to).
#include "host_list.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace corral::client {
namespace {

TEST(HostList, HostsAreWrittenBackAsAConnectStringWritesThem) {
  ConnectString c = parse_connect_string("[::1]:2182,127.0.0.1:2183,zk1,[fe80::1%eth0]/app");
  ASSERT_EQ(c.hosts.size(), 4u);
  EXPECT_EQ(c.hosts[0].host, "::1");
  EXPECT_EQ(c.hosts[0].port, 2182);
  EXPECT_EQ(c.hosts[0].text(), "[::1]:2182");
  EXPECT_EQ(c.hosts[1].text(), "127.0.0.1:2183");
  EXPECT_EQ(c.hosts[2].text(), "zk1:2181");
  EXPECT_EQ(c.hosts[3].text(), "[fe80::1%eth0]:2181");
  EXPECT_EQ(c.chroot, "/app");
  // What text() writes parses back to the same host and port.
  for (const HostPort& hp : c.hosts) {
    ConnectString again = parse_connect_string(hp.text());
    ASSERT_EQ(again.hosts.size(), 1u);
    EXPECT_EQ(again.hosts[0].host, hp.host);
    EXPECT_EQ(again.hosts[0].port, hp.port);
  }
}

TEST(HostList, BracketsMustCloseBeforeThePort) {
  EXPECT_THROW(parse_connect_string("[::1:2181"), std::invalid_argument);
  EXPECT_THROW(parse_connect_string("[::1]2181"), std::invalid_argument);
  EXPECT_THROW(parse_connect_string("[]:2181"), std::invalid_argument);
}

}  // namespace
}  // namespace corral::client
