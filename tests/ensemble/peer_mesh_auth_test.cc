// PeerMesh with authentication (peer_auth.h) and a bounded send queue, over loopback
// sockets, every mesh on one io_context driven by the test. The rogue cases are the
// CVE-2023-44981 class: a process that reaches the ports and claims a member id.
#include <gtest/gtest.h>

#include <asio/read.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/peer_auth.h"
#include "ensemble/server/peer_mesh.h"

namespace corral::server {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace pa = peer_auth;

std::string be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

// Every member's accounts: a shared one and one bound to each id.
PeerAuthSettings settings(const std::string& user, const std::string& password) {
  PeerAuthSettings a;
  a.enabled = a.learner_require = a.server_require = true;
  a.username = user;
  a.password = password;
  a.users = {{"quorum", "s3cret"}, {"server.1", "one"}, {"server.2", "two"}, {"server.3", "three"}};
  return a;
}

struct Member {
  std::vector<std::pair<int64_t, std::string>> frames;
  std::map<int64_t, int> disconnects;
  std::unique_ptr<PeerMesh> mesh;
};

class PeerMeshAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::unique_ptr<tcp::acceptor>> held;  // distinct free ports
    for (int64_t id = 1; id <= 3; ++id) {
      held.push_back(std::make_unique<tcp::acceptor>(
          io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
      peers_.push_back({id, "127.0.0.1", held.back()->local_endpoint().port()});
    }
  }

  // Member `id`'s mesh (claiming `id`), authenticating as `auth` says; started.
  Member& make(int64_t id, const PeerAuthSettings& auth) {
    auto& m = members_[id];
    m = std::make_unique<Member>();
    Member* raw = m.get();
    PeerMesh::Handlers h;
    h.frame = [raw](int64_t from, std::string_view body) {
      raw->frames.emplace_back(from, std::string(body));
    };
    h.disconnected = [raw](int64_t peer) { ++raw->disconnects[peer]; };
    m->mesh = std::make_unique<PeerMesh>(io_, id, peers_, std::move(h));
    m->mesh->authenticate(auth, "quorum");
    m->mesh->start();
    return *m;
  }

  bool run_until(const std::function<bool()>& done, Clock::duration timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(10ms);
    }
    return done();
  }

  void run_for(Clock::duration d) {
    if (io_.stopped()) io_.restart();
    io_.run_for(d);
  }

  tcp::socket raw_connect(int64_t id) {
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), peers_[id - 1].port));
    return s;
  }

  // True when the other side closes `s` within `timeout` without sending anything but what
  // `s` reads into `got` first.
  bool closed_by_peer(tcp::socket& s, std::string* got = nullptr) {
    auto buf = std::make_shared<std::array<char, 256>>();
    auto done = std::make_shared<bool>(false);
    std::function<void()> read = [&, buf, done] {
      s.async_read_some(asio::buffer(*buf), [&, buf, done](const asio::error_code& ec, size_t n) {
        if (ec) {
          *done = true;
          return;
        }
        if (got) got->append(buf->data(), n);
        read();
      });
    };
    read();
    return run_until([done] { return *done; }, 6s);
  }

  asio::io_context io_;
  std::vector<MeshPeer> peers_;
  std::map<int64_t, std::unique_ptr<Member>> members_;
};

TEST(PeerAuthTest, ProofsBindRolePurposeIdsAndNonces) {
  const std::string nc = pa::make_nonce(), na = pa::make_nonce();
  EXPECT_NE(nc, na);
  const auto base = pa::proof(pa::Role::kConnector, "quorum", "pw", 2, 1, "u", nc, na);
  EXPECT_EQ(base.size(), pa::kProofBytes);
  EXPECT_EQ(base, pa::proof(pa::Role::kConnector, "quorum", "pw", 2, 1, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kAcceptor, "quorum", "pw", 2, 1, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kConnector, "election", "pw", 2, 1, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kConnector, "quorum", "pw2", 2, 1, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kConnector, "quorum", "pw", 3, 1, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kConnector, "quorum", "pw", 2, 3, "u", nc, na));
  EXPECT_NE(base, pa::proof(pa::Role::kConnector, "quorum", "pw", 2, 1, "u", na, nc));
  EXPECT_EQ(pa::bound_id("server.12"), 12);
  EXPECT_EQ(pa::bound_id("server."), std::nullopt);
  EXPECT_EQ(pa::bound_id("server.1x"), std::nullopt);
  EXPECT_EQ(pa::bound_id("quorum"), std::nullopt);

  pa::Hello h{7, nc, "server.7", {}}, out;
  std::string bytes = pa::encode_hello(h);
  size_t used = 0;
  EXPECT_EQ(pa::decode_hello(std::string_view(bytes).substr(0, 20), out, used),
            pa::Decode::kNeedMore);
  ASSERT_EQ(pa::decode_hello(bytes + "tail", out, used), pa::Decode::kDone);
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(out.id, 7);
  EXPECT_EQ(out.username, "server.7");
  EXPECT_EQ(pa::decode_hello(be64(3) + std::string(60, '\0'), out, used), pa::Decode::kMalformed);
}

TEST_F(PeerMeshAuthTest, MembersWithTheSecretAuthenticateAndExchangeFrames) {
  Member& one = make(1, settings("quorum", "s3cret"));
  Member& two = make(2, settings("server.2", "two"));
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2) && two.mesh->connected(1); }));
  ASSERT_TRUE(one.mesh->send(2, "to two"));
  ASSERT_TRUE(two.mesh->send(1, "to one"));
  ASSERT_TRUE(run_until([&] { return one.frames.size() == 1 && two.frames.size() == 1; }));
  EXPECT_EQ(one.frames[0], std::make_pair(int64_t{2}, std::string("to one")));
  EXPECT_EQ(two.frames[0], std::make_pair(int64_t{1}, std::string("to two")));
}

TEST_F(PeerMeshAuthTest, RogueWithoutTheSecretIsRefusedWhateverIdItClaims) {
  Member& one = make(1, settings("quorum", "s3cret"));
  Member& two = make(2, settings("quorum", "s3cret"));
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2) && two.mesh->connected(1); }));
  // Unauthenticated hellos: an existing id (which would replace member 2's connection
  // without authentication) and a new one (CVE-2023-44981 skipped authentication for it).
  for (uint64_t id : {2, 99}) {
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(be64(id) + std::string("\0\0\0\x01x", 5)));
    EXPECT_TRUE(closed_by_peer(s)) << id;
  }
  // Authenticating hellos with a wrong password, for an existing and a new id: member 1
  // answers with a challenge, then refuses the proof.
  for (int64_t id : {2, 99}) {
    auto s = raw_connect(1);
    asio::write(s, asio::buffer(pa::encode_hello({id, pa::make_nonce(), "quorum", {}})));
    asio::write(s, asio::buffer(std::string(pa::kProofBytes, 'x') + "\0\0\0\x01x"));
    std::string got;
    EXPECT_TRUE(closed_by_peer(s, &got)) << id;
    EXPECT_LE(got.size(), pa::kChallengeBytes) << "no verdict of acceptance";
  }
  // A member's account claiming another member's id.
  {  // it knows only its own account
    PeerAuthSettings two_as_three = settings("server.2", "two");
    two_as_three.users = {{"server.2", "two"}};
    auto rogue = std::make_unique<PeerMesh>(io_, 3, peers_, PeerMesh::Handlers{});
    rogue->authenticate(two_as_three, "quorum");
    rogue->start();
    run_for(300ms);
    EXPECT_FALSE(rogue->connected(1));
  }
  run_for(100ms);
  EXPECT_TRUE(one.frames.empty());
  EXPECT_EQ(one.disconnects[2], 0) << "member 2's connection was never replaced";
  EXPECT_TRUE(one.mesh->connected(2));
}

TEST_F(PeerMeshAuthTest, MemberDiallingARogueListenerSendsItNothing) {
  // Whoever listens on member 2's port without the secret: member 1 does not count it as
  // connected, so no vote or proposal goes there.
  Member& one = make(1, settings("quorum", "s3cret"));
  PeerAuthSettings guessed = settings("quorum", "guessed");
  for (auto& [user, password] : guessed.users) password = "guessed";
  Member& rogue = make(2, guessed);
  run_for(500ms);
  EXPECT_FALSE(one.mesh->connected(2));
  EXPECT_FALSE(rogue.mesh->connected(1));
  EXPECT_FALSE(one.mesh->send(2, "vote"));
  EXPECT_TRUE(rogue.frames.empty());
  EXPECT_TRUE(one.frames.empty());
}

TEST_F(PeerMeshAuthTest, RollingUpgradeFlagsFollowZooKeeper) {
  // enableSasl without requirements accepts a member that does not authenticate; a member
  // that requires authentication authenticates to it.
  PeerAuthSettings open = settings("quorum", "s3cret");
  open.learner_require = open.server_require = false;
  PeerAuthSettings off;  // quorum.auth.enableSasl=false
  Member& one = make(1, open);
  Member& two = make(2, off);
  Member& three = make(3, settings("quorum", "s3cret"));
  ASSERT_TRUE(run_until([&] {
    return two.mesh->connected(1) && three.mesh->connected(1) && one.mesh->connected(3);
  }));
  // Member 3 requires authentication from those connecting, and member 2 never does: 3
  // refuses 2's connections. (2's connected(3) is true for the moment between its connect and
  // the refusal, 1 run in 40: what counts is that nothing 2 sends arrives.)
  for (int i = 0; i < 30; ++i) {
    two.mesh->send(3, "from 2");
    run_for(10ms);
  }
  for (const auto& [from, body] : three.frames) EXPECT_NE(from, 2) << body;
  // Member 3 authenticates when it dials member 2, which has it off.
  EXPECT_FALSE(three.mesh->connected(2));
}

TEST_F(PeerMeshAuthTest, SlowMemberIsCutOffWhenItsQueueExceedsTheBound) {
  Member& one = make(1, PeerAuthSettings{});
  one.mesh->limit_queue(1 << 20);
  // Member 2 is a listener that accepts but never reads, like a SIGSTOPped server.
  tcp::acceptor stalled(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), peers_[1].port));
  std::vector<tcp::socket> accepted;
  std::function<void()> accept = [&] {
    stalled.async_accept([&](const asio::error_code& ec, tcp::socket s) {
      if (ec) return;
      accepted.push_back(std::move(s));
      accept();
    });
  };
  accept();
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2); }));
  const std::string frame(16 * 1024, 'p');
  size_t sent = 0;
  ASSERT_TRUE(run_until(
      [&] {
        while (one.mesh->send(2, frame)) ++sent;
        return one.mesh->cut_offs() == 1;
      },
      10s));
  // Kernel buffers take some megabytes; the mesh itself held at most about the bound.
  EXPECT_LT(sent * frame.size(), size_t{64} << 20);
  ASSERT_TRUE(run_until([&] { return one.disconnects[2] == 1; }));
  // It is dialled again and may be sent to once it is back.
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2) && accepted.size() >= 2; }));
  EXPECT_TRUE(one.mesh->send(2, "resync"));
}

TEST_F(PeerMeshAuthTest, AFrameOverTheBoundAndTheNextInOnePassAreBothSent) {
  // A SYNC over the bound and the NEWLEADER right behind it: the mesh writes what one pass
  // sent once the pass ends, so the second found the first still queued; it was cut off, and
  // the learner synced again, and again.
  Member& one = make(1, PeerAuthSettings{});
  Member& two = make(2, PeerAuthSettings{});
  one.mesh->limit_queue(1 << 20);
  ASSERT_TRUE(run_until([&] { return one.mesh->connected(2) && two.mesh->connected(1); }));
  // Once "ping" has arrived no write is in progress (its completion ran before the read, on
  // the one io_context): 2 MiB behind a write in progress would be cut off, as they should.
  ASSERT_TRUE(one.mesh->send(2, "ping"));
  ASSERT_TRUE(run_until([&] { return two.frames.size() == 1; }));
  const std::string sync(2 << 20, 's');
  EXPECT_TRUE(one.mesh->send(2, sync));
  EXPECT_TRUE(one.mesh->send(2, "newleader"));
  ASSERT_TRUE(run_until([&] { return two.frames.size() >= 3; }, 10s));
  EXPECT_EQ(one.mesh->cut_offs(), 0u);
  EXPECT_EQ(two.frames[1].second, sync);
  EXPECT_EQ(two.frames[2].second, "newleader");
}

}  // namespace
}  // namespace corral::server
