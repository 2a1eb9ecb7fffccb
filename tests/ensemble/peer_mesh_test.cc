// PeerMesh over real loopback sockets, every mesh on one io_context driven by the test.
#include "ensemble/server/peer_mesh.h"

#include <gtest/gtest.h>

#include <asio/read.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace corral::server {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Ports picked by the kernel: all acceptors stay open until every port is chosen, so
// they differ.
std::vector<uint16_t> free_ports(size_t n) {
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> held;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    held.push_back(
        std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    ports.push_back(held.back()->local_endpoint().port());
  }
  return ports;
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 3; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

std::string be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

// Frame `i` from `from` to `to`: 0 bytes first, 1 MiB every 97th, small sizes otherwise;
// contents depend on all three so a misrouted or reordered frame shows.
std::string make_body(int64_t from, int64_t to, size_t i) {
  size_t size = i == 0 ? 0 : i % 97 == 0 ? (1u << 20) : i % 3 == 0 ? i % 5 : (i * 131) % 9000;
  std::string s(size, '\0');
  for (size_t j = 0; j < size; ++j) s[j] = static_cast<char>((i * 13 + j + from * 7 + to) & 0xff);
  return s;
}

struct Member {
  int64_t id = 0;
  std::vector<std::pair<int64_t, std::string>> frames;
  std::map<int64_t, int> disconnects;
  std::unique_ptr<PeerMesh> mesh;

  size_t frames_from(int64_t from) const {
    size_t n = 0;
    for (const auto& f : frames) n += f.first == from;
    return n;
  }
};

class PeerMeshTest : public ::testing::Test {
 protected:
  // Declares `n` members 1..n with fresh ports; none is created yet.
  void declare(size_t n) {
    auto ports = free_ports(n);
    for (size_t i = 0; i < n; ++i)
      peers_.push_back(MeshPeer{static_cast<int64_t>(i + 1), "127.0.0.1", ports[i]});
  }

  // Creates (or re-creates) member `id`'s mesh; starts it unless told not to.
  Member& make(int64_t id, bool start = true, size_t max_frame_bytes = 1u << 30) {
    auto& m = members_[id];
    if (!m) m = std::make_unique<Member>();
    m->id = id;
    m->mesh.reset();
    Member* raw = m.get();
    PeerMesh::Handlers h;
    h.frame = [raw](int64_t from, std::string_view body) {
      raw->frames.emplace_back(from, std::string(body));
    };
    h.disconnected = [raw](int64_t peer) { ++raw->disconnects[peer]; };
    m->mesh = std::make_unique<PeerMesh>(io_, id, peers_, std::move(h), max_frame_bytes);
    if (start) m->mesh->start();
    return *m;
  }

  Member& member(int64_t id) { return *members_.at(id); }

  // Runs the io_context until `done` holds or `timeout` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done, Clock::duration timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(10ms);
    }
    return done();
  }

  // Runs the io_context for `d` (lets backoff and stray events play out).
  void run_for(Clock::duration d) {
    if (io_.stopped()) io_.restart();
    io_.run_for(d);
  }

  bool all_connected() {
    for (auto& [a, ma] : members_)
      for (auto& [b, mb] : members_)
        if (a != b && !ma->mesh->connected(b)) return false;
    return true;
  }

  // Connects a raw socket to member `id`'s mesh port.
  tcp::socket raw_connect(int64_t id) {
    tcp::socket s(io_);
    for (const auto& p : peers_)
      if (p.id == id) s.connect(tcp::endpoint(asio::ip::make_address(p.host), p.port));
    return s;
  }

  // True when the other side closes `s` (EOF or reset) within `timeout`.
  bool closed_by_peer(tcp::socket& s, Clock::duration timeout = 2s) {
    struct Probe {
      bool done = false;
      asio::error_code ec;
      char byte = 0;
    };
    auto probe = std::make_shared<Probe>();
    asio::async_read(s, asio::buffer(&probe->byte, 1), [probe](const asio::error_code& ec, size_t) {
      probe->done = true;
      probe->ec = ec;
    });
    bool done = run_until([&] { return probe->done; }, timeout);
    return done && probe->ec && probe->ec != asio::error::operation_aborted;
  }

  asio::io_context io_;
  std::vector<MeshPeer> peers_;
  std::map<int64_t, std::unique_ptr<Member>> members_;
};

TEST_F(PeerMeshTest, ThreeMembersExchangeFramesInOrder) {
  declare(3);
  for (int64_t id = 1; id <= 3; ++id) make(id);
  ASSERT_TRUE(run_until([&] { return all_connected(); }));

  constexpr size_t kFrames = 1000;
  // Interleave senders and destinations so every connection carries traffic at once.
  for (size_t i = 0; i < kFrames; ++i)
    for (int64_t from = 1; from <= 3; ++from)
      for (int64_t to = 1; to <= 3; ++to)
        if (from != to) {
          ASSERT_TRUE(member(from).mesh->send(to, make_body(from, to, i)));
        }

  ASSERT_TRUE(run_until(
      [&] {
        for (int64_t id = 1; id <= 3; ++id)
          if (member(id).frames.size() < 2 * kFrames) return false;
        return true;
      },
      30s));
  for (int64_t to = 1; to <= 3; ++to) {
    const Member& m = member(to);
    EXPECT_EQ(m.frames.size(), 2 * kFrames);
    std::map<int64_t, size_t> next;
    for (const auto& [from, body] : m.frames) {
      size_t i = next[from]++;
      ASSERT_LT(i, kFrames);
      ASSERT_TRUE(body == make_body(from, to, i))
          << "frame " << i << " from " << from << " to " << to << " (" << body.size() << " bytes)";
    }
    EXPECT_TRUE(m.disconnects.empty());
  }
}

TEST_F(PeerMeshTest, LateMemberIsConnectedAutomatically) {
  declare(3);
  make(1);
  make(2);
  Member& late = make(3, /*start=*/false);
  ASSERT_TRUE(
      run_until([&] { return member(1).mesh->connected(2) && member(2).mesh->connected(1); }));
  EXPECT_FALSE(member(1).mesh->connected(3));
  EXPECT_FALSE(member(1).mesh->send(3, "dropped"));
  EXPECT_FALSE(member(2).mesh->send(3, "dropped"));
  EXPECT_FALSE(member(1).mesh->send(1, "to myself"));
  EXPECT_FALSE(member(1).mesh->send(42, "to nobody"));
  run_for(400ms);  // long enough for the reconnect backoff to reach its ceiling
  EXPECT_TRUE(member(1).disconnects.empty()) << "failed connects must not report";
  EXPECT_TRUE(member(2).disconnects.empty());

  auto started = Clock::now();
  late.mesh->start();
  ASSERT_TRUE(run_until([&] { return all_connected(); }, 2s));
  EXPECT_LT(Clock::now() - started, 1s);
  ASSERT_TRUE(member(1).mesh->send(3, "one to three"));
  ASSERT_TRUE(member(2).mesh->send(3, "two to three"));
  ASSERT_TRUE(late.mesh->send(1, "three to one"));
  ASSERT_TRUE(run_until([&] { return late.frames.size() == 2 && member(1).frames.size() == 1; }));
  EXPECT_EQ(late.frames_from(1), 1u);
  EXPECT_EQ(late.frames_from(2), 1u);
  for (const auto& [from, body] : late.frames)
    EXPECT_EQ(body, from == 1 ? "one to three" : "two to three");
  EXPECT_EQ(member(1).frames.front(), std::make_pair(int64_t{3}, std::string("three to one")));
}

TEST_F(PeerMeshTest, StoppedMemberIsReportedAndReconnected) {
  declare(3);
  for (int64_t id = 1; id <= 3; ++id) make(id);
  ASSERT_TRUE(run_until([&] { return all_connected(); }));
  Member& third = member(3);
  ASSERT_TRUE(member(1).mesh->send(3, "before"));
  ASSERT_TRUE(run_until([&] { return third.frames.size() == 1; }));

  // Stopped: both of its connections with each other member close (two reports each);
  // the stopped mesh itself hears nothing more.
  ASSERT_TRUE(third.mesh->send(1, "queued as it stops"));
  auto stopped = Clock::now();
  third.mesh->stop();
  ASSERT_TRUE(run_until(
      [&] { return member(1).disconnects[3] == 2 && member(2).disconnects[3] == 2; }, 1s));
  EXPECT_LT(Clock::now() - stopped, 1s);
  EXPECT_FALSE(member(1).mesh->connected(3));
  EXPECT_FALSE(member(2).mesh->connected(3));
  EXPECT_FALSE(third.mesh->connected(1));
  EXPECT_FALSE(third.mesh->send(1, "while stopped"));
  run_for(400ms);  // reconnect attempts to a member that is down report nothing
  EXPECT_EQ(member(1).disconnects[3], 2);
  EXPECT_EQ(member(2).disconnects[3], 2);
  EXPECT_TRUE(third.disconnects.empty());
  EXPECT_EQ(third.frames.size(), 1u);

  // The same object starts again on the same port.
  third.mesh->start();
  ASSERT_TRUE(run_until([&] { return all_connected(); }, 2s));
  ASSERT_TRUE(member(1).mesh->send(3, "after restart"));
  ASSERT_TRUE(member(2).mesh->send(3, "after restart"));
  ASSERT_TRUE(third.mesh->send(1, "back"));
  ASSERT_TRUE(run_until([&] { return third.frames.size() == 3 && member(1).frames_from(3) >= 1; }));
  EXPECT_EQ(third.frames[1].second, "after restart");
  EXPECT_EQ(third.frames[2].second, "after restart");
  EXPECT_EQ(member(1).disconnects[3], 2);
  EXPECT_EQ(member(2).disconnects[3], 2);

  // A new object (a restarted process) on the same port: destroying the old one stops it.
  make(3, /*start=*/false);
  ASSERT_TRUE(run_until(
      [&] { return member(1).disconnects[3] == 4 && member(2).disconnects[3] == 4; }, 1s));
  member(3).mesh->start();
  ASSERT_TRUE(run_until([&] { return all_connected(); }, 2s));
  size_t before = member(3).frames.size();
  ASSERT_TRUE(member(2).mesh->send(3, "to the new process"));
  ASSERT_TRUE(run_until([&] { return member(3).frames.size() == before + 1; }));
  EXPECT_EQ(member(3).frames.back(), std::make_pair(int64_t{2}, std::string("to the new process")));
}

TEST_F(PeerMeshTest, StopInsideAHandlerIsSafe) {
  declare(2);
  Member& one = make(1);
  // Member 2 stops from inside its frame handler while more frames are in the same read.
  int seen = 0;
  std::unique_ptr<PeerMesh> two;
  PeerMesh::Handlers h;
  h.frame = [&](int64_t, std::string_view) {
    ++seen;
    two->stop();
  };
  h.disconnected = [&](int64_t) { ADD_FAILURE() << "no handler after stop"; };
  two = std::make_unique<PeerMesh>(io_, 2, peers_, std::move(h));
  two->start();
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2) && two->connected(1); }));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(one.mesh->send(2, "x"));
  ASSERT_TRUE(run_until([&] { return seen > 0 && one.disconnects[2] == 2; }));
  EXPECT_FALSE(one.mesh->connected(2));
  run_for(100ms);
  EXPECT_EQ(seen, 1);
}

TEST_F(PeerMeshTest, BadInboundConnectionsAreClosed) {
  declare(2);
  Member& one = make(1, /*start=*/true, /*max_frame_bytes=*/4096);
  Member& two = make(2, /*start=*/true, /*max_frame_bytes=*/4096);
  ASSERT_TRUE(run_until([&] { return all_connected(); }));

  {  // an id that is no member
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(99)));
    EXPECT_TRUE(closed_by_peer(s));
  }
  {  // the receiver's own id
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(1)));
    EXPECT_TRUE(closed_by_peer(s));
  }
  {  // a negative id
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(~uint64_t{0})));
    EXPECT_TRUE(closed_by_peer(s));
  }
  {  // half an id, then gone; and a connection that closes at once
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(std::string("\0\0\0", 3)));
    s.close();
    auto t = raw_connect(1);
    t.close();
    run_for(50ms);
  }
  EXPECT_TRUE(one.disconnects.empty());
  EXPECT_TRUE(one.mesh->connected(2));

  // The sender refuses what the receiver would refuse.
  EXPECT_FALSE(one.mesh->send(2, std::string(4097, 'x')));
  EXPECT_TRUE(one.mesh->send(2, std::string(4096, 'x')));
  ASSERT_TRUE(run_until([&] { return two.frames.size() == 1; }));

  {  // a member's id (replacing member 2's own connection), then an oversized frame
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(2) + be32(4097)));
    EXPECT_TRUE(closed_by_peer(s));
    EXPECT_GE(one.disconnects[2], 2);  // the replaced connection, then this one
  }
  {  // a huge length with a valid id
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(2) + be32(0xffffffffu)));
    EXPECT_TRUE(closed_by_peer(s));
  }

  // Member 2 notices its connection was closed, reconnects, and frames flow both ways.
  ASSERT_TRUE(run_until([&] { return all_connected() && two.disconnects[1] >= 1; }, 2s));
  size_t one_had = one.frames.size();
  size_t two_had = two.frames.size();
  ASSERT_TRUE(run_until([&] {
    // member 2 may still be reconnecting: resend until one arrives
    if (one.frames.size() == one_had) two.mesh->send(1, "still here");
    return one.frames.size() > one_had;
  }));
  ASSERT_TRUE(one.mesh->send(2, "and back"));
  ASSERT_TRUE(run_until([&] { return two.frames.size() == two_had + 1; }));
  EXPECT_EQ(one.frames.back(), std::make_pair(int64_t{2}, std::string("still here")));
  EXPECT_EQ(two.frames.back(), std::make_pair(int64_t{1}, std::string("and back")));
}

TEST_F(PeerMeshTest, BindFailureThrowsAndConstructorChecksMembers) {
  declare(2);
  Member& one = make(1);
  PeerMesh clash(io_, 1, peers_, {});
  EXPECT_THROW(clash.start(), std::system_error);
  EXPECT_THROW(PeerMesh(io_, 7, peers_, {}), std::invalid_argument);
  auto twice = peers_;
  twice.push_back(peers_[1]);
  EXPECT_THROW(PeerMesh(io_, 1, twice, {}), std::invalid_argument);
  one.mesh->stop();
  clash.start();  // the port is free again
  clash.stop();
}

}  // namespace
}  // namespace corral::server
