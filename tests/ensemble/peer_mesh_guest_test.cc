// PeerMesh under dynamic reconfiguration (MeshGuests, set_members, the version-2 hello), over
// loopback sockets, every mesh on one io_context driven by the test. A "guest" is a server
// outside a mesh's member list: a joiner before its reconfig commits, or a removed member.
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/read.hpp>
#include <asio/ssl/context.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ensemble/server/peer_auth.h"
#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/peer_mesh_hello.h"
#include "ensemble/server/tls_context.h"

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

// Guests on, dropped quickly so that the tests need not wait initLimit ticks.
MeshGuests reconfig_on(std::chrono::milliseconds linger = 300ms) { return {true, 16, linger}; }

struct Node {
  std::vector<std::pair<int64_t, std::string>> frames;
  std::map<int64_t, int> disconnects;
  std::unique_ptr<PeerMesh> mesh;

  size_t frames_from(int64_t from) const {
    size_t n = 0;
    for (const auto& f : frames) n += f.first == from;
    return n;
  }
};

class PeerMeshGuestTest : public ::testing::Test {
 protected:
  // An address with a free port for server `id`.
  MeshPeer address(int64_t id) {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    MeshPeer p{id, "127.0.0.1", probe.local_endpoint().port()};
    // Kept open until the test ends, so no two addresses share a port; the mesh binds with
    // SO_REUSEADDR after this one is closed in release().
    held_[p.port] = std::make_unique<tcp::acceptor>(std::move(probe));
    return p;
  }
  void release(const MeshPeer& p) { held_.erase(p.port); }

  // Server `id`'s mesh with member list `peers`, started.
  Node& make(int64_t id, const std::vector<MeshPeer>& peers, MeshGuests guests,
             const std::function<void(PeerMesh&)>& setup = {}) {
    for (const auto& p : peers)
      if (p.id == id) release(p);
    auto& n = nodes_[id];
    if (n && n->mesh) n->mesh.reset();
    n = std::make_unique<Node>();
    Node* raw = n.get();
    PeerMesh::Handlers h;
    h.frame = [raw](int64_t from, std::string_view body) {
      raw->frames.emplace_back(from, std::string(body));
    };
    h.disconnected = [raw](int64_t peer) { ++raw->disconnects[peer]; };
    n->mesh = std::make_unique<PeerMesh>(io_, id, peers, std::move(h), 1u << 20, guests);
    if (setup) setup(*n->mesh);
    n->mesh->start();
    return *n;
  }

  Node& node(int64_t id) { return *nodes_.at(id); }

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

  // Both directions between `a` and `b` are up.
  bool linked(int64_t a, int64_t b) {
    return node(a).mesh->connected(b) && node(b).mesh->connected(a);
  }

  // `a` and `b` exchange one frame each way; true when both arrive.
  bool exchange(int64_t a, int64_t b, const std::string& tag) {
    const size_t at_a = node(a).frames_from(b), at_b = node(b).frames_from(a);
    if (!node(a).mesh->send(b, tag) || !node(b).mesh->send(a, tag)) return false;
    return run_until([&] {
             return node(a).frames_from(b) == at_a + 1 && node(b).frames_from(a) == at_b + 1;
           }) &&
           node(a).frames.back().second == tag && node(b).frames.back().second == tag;
  }

  tcp::socket raw_connect(const MeshPeer& p) {
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address(p.host), p.port));
    return s;
  }

  // True when the other side closes `s` within `timeout`.
  bool closed_by_peer(tcp::socket& s, Clock::duration timeout = 3s, std::string* got = nullptr) {
    auto done = std::make_shared<bool>(false);
    auto buf = std::make_shared<std::array<char, 256>>();
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
    return run_until([done] { return *done; }, timeout);
  }

  asio::io_context io_;
  std::map<uint16_t, std::unique_ptr<tcp::acceptor>> held_;
  std::map<int64_t, std::unique_ptr<Node>> nodes_;
};

TEST(MeshHelloTest, VersionTwoHellosCarryTheAddress) {
  namespace mh = mesh_hello;
  std::string bytes = mh::encode_announce(7, {"zk7.example", 2888});
  int64_t id = 0;
  mh::Address a;
  size_t used = 0;
  EXPECT_EQ(mh::decode_announce(std::string_view(bytes).substr(0, 20), id, a, used),
            mh::Decode::kNeedMore);
  ASSERT_EQ(mh::decode_announce(bytes + "frames", id, a, used), mh::Decode::kDone);
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(id, 7);
  EXPECT_EQ(a.text(), "zk7.example:2888");
  EXPECT_LT(static_cast<int64_t>(mh::kAnnounceMagic), 0) << "never mistaken for an id";
  EXPECT_EQ(mh::decode_announce(mh::encode_announce(7, {"h", 0}), id, a, used),
            mh::Decode::kMalformed);
  EXPECT_EQ(mh::decode_announce(mh::encode_announce(7, {"", 5}), id, a, used),
            mh::Decode::kMalformed);

  // The authenticating hello: version 1 unchanged, version 2 with the address in the proof.
  const std::string nc = pa::make_nonce(), na = pa::make_nonce();
  pa::Hello v2{7, nc, "server.7", {"10.0.0.7", 2888}}, out;
  ASSERT_EQ(pa::decode_hello(pa::encode_hello(v2) + "x", out, used), pa::Decode::kDone);
  EXPECT_EQ(used, pa::encode_hello(v2).size());
  EXPECT_EQ(out.address, v2.address);
  ASSERT_EQ(pa::decode_hello(pa::encode_hello({7, nc, "server.7", {}}), out, used),
            pa::Decode::kDone);
  EXPECT_TRUE(out.address.host.empty());
  const auto v1 = pa::proof(pa::Role::kConnector, "quorum", "pw", 7, 1, "u", nc, na);
  EXPECT_NE(v1, pa::proof(pa::Role::kConnector, "quorum", "pw", 7, 1, "u", nc, na, "h:1"));
  EXPECT_NE(pa::proof(pa::Role::kConnector, "quorum", "pw", 7, 1, "u", nc, na, "h:1"),
            pa::proof(pa::Role::kConnector, "quorum", "pw", 7, 1, "u", nc, na, "h:2"));
}

TEST_F(PeerMeshGuestTest, SetMembersAddsDropsAndMovesAMember) {
  const MeshPeer one = address(1), two = address(2), three = address(3);
  make(1, {one, two}, reconfig_on());
  make(2, {one, two}, reconfig_on());
  // Member 3 says version 1 (no address), so until member 1 lists it, it is refused.
  make(3, {one, two, three}, MeshGuests{});
  ASSERT_TRUE(run_until([&] { return linked(1, 2); }));
  EXPECT_FALSE(node(1).mesh->connected(3));
  EXPECT_FALSE(node(1).mesh->send(3, "not a member"));

  node(1).mesh->set_members({one, two, three});
  ASSERT_TRUE(run_until([&] { return linked(1, 3); }));
  EXPECT_FALSE(node(1).mesh->is_guest(3));
  EXPECT_TRUE(exchange(1, 3, "added"));

  // Dropped: a guest now, its connections kept, frames still flow both ways. (Member 3's
  // refused connections before it was added counted as disconnections.)
  const int refused_before = node(3).disconnects[1];
  node(1).mesh->set_members({one, two});
  EXPECT_TRUE(node(1).mesh->is_guest(3));
  EXPECT_EQ(node(1).mesh->guests(), std::vector<int64_t>{3});
  EXPECT_TRUE(exchange(1, 3, "dropped but still connected"));
  EXPECT_EQ(node(1).disconnects[3], 0);
  EXPECT_EQ(node(3).disconnects[1], refused_before);

  // Moved: a new server 3 on another port; member 1 leaves the old address for the new one.
  node(1).mesh->set_members({one, two, three});
  EXPECT_FALSE(node(1).mesh->is_guest(3));
  const MeshPeer moved = address(3);
  nodes_.erase(3);
  make(3, {one, two, moved}, MeshGuests{});
  ASSERT_TRUE(run_until([&] { return node(3).mesh->connected(1); }));
  EXPECT_FALSE(node(1).mesh->connected(3)) << "member 1 still dials the old address";
  node(1).mesh->set_members({one, two, moved});
  ASSERT_TRUE(run_until([&] { return linked(1, 3); }));
  EXPECT_TRUE(exchange(1, 3, "moved"));
  EXPECT_EQ(node(3).frames_from(1), 1u) << "the new server 3 got member 1's frame";

  EXPECT_THROW(node(1).mesh->set_members({one, two, two}), std::invalid_argument);
  EXPECT_TRUE(linked(1, 3)) << "a refused list changes nothing";
}

TEST_F(PeerMeshGuestTest, GuestIsAcceptedDialledBackAndDroppedAfterLinger) {
  const MeshPeer one = address(1), two = address(2), joiner = address(4);
  make(1, {one, two}, reconfig_on());
  make(2, {one, two}, reconfig_on());
  make(4, {one, two, joiner}, reconfig_on());  // a joiner lists itself and the ensemble
  ASSERT_TRUE(run_until([&] { return linked(1, 4) && linked(2, 4) && linked(1, 2); }));
  EXPECT_TRUE(node(1).mesh->is_guest(4));
  EXPECT_TRUE(node(2).mesh->is_guest(4));
  EXPECT_FALSE(node(4).mesh->is_guest(1)) << "the joiner lists the ensemble";
  EXPECT_TRUE(exchange(1, 4, "vote"));
  EXPECT_TRUE(exchange(2, 4, "proposal"));

  // Connected for longer than the linger: still a guest.
  run_for(500ms);
  EXPECT_TRUE(node(1).mesh->is_guest(4));
  EXPECT_TRUE(linked(1, 4));

  // Gone both ways: reported, then forgotten after the linger, not before.
  const auto stopped = Clock::now();
  node(4).mesh->stop();
  ASSERT_TRUE(
      run_until([&] { return node(1).disconnects[4] == 2 && node(2).disconnects[4] == 2; }));
  ASSERT_TRUE(run_until([&] { return node(1).mesh->guests().empty(); }));
  EXPECT_GE(Clock::now() - stopped, 300ms);
  EXPECT_LT(Clock::now() - stopped, 2s);
  EXPECT_FALSE(node(1).mesh->send(4, "forgotten"));
  ASSERT_TRUE(run_until([&] { return node(2).mesh->guests().empty(); }));

  // Back: accepted again.
  node(4).mesh->start();
  ASSERT_TRUE(run_until([&] { return linked(1, 4) && node(1).mesh->is_guest(4); }));
  EXPECT_TRUE(exchange(1, 4, "welcome back"));

  // Made a member (its reconfig committed), it is never forgotten: down for longer than the
  // linger, it is dialled again as a member when it is back.
  node(1).mesh->set_members({one, two, joiner});
  EXPECT_TRUE(node(1).mesh->guests().empty());
  node(4).mesh->stop();
  ASSERT_TRUE(run_until([&] { return node(1).disconnects[4] == 4; }));
  run_for(500ms);
  node(4).mesh->start();
  ASSERT_TRUE(run_until([&] { return linked(1, 4); }));
  EXPECT_FALSE(node(1).mesh->is_guest(4));
}

TEST_F(PeerMeshGuestTest, GuestAnnouncingAWildcardIsDialledAtItsSourceAddress) {
  const MeshPeer one = address(1);
  make(1, {one}, reconfig_on());
  // Server 7 connects from 127.0.0.3 and listens only there, but announces 0.0.0.0 (it listens
  // on every address, as with quorumListenOnAllIPs).
  const auto seven = asio::ip::make_address("127.0.0.3");
  tcp::acceptor listener(io_, tcp::endpoint(seven, 0));
  tcp::socket s(io_);
  s.open(tcp::v4());
  s.bind(tcp::endpoint(seven, 0));
  s.connect(tcp::endpoint(asio::ip::make_address(one.host), one.port));
  asio::write(s, asio::buffer(mesh_hello::encode_announce(
                     7, {"0.0.0.0", listener.local_endpoint().port()})));
  // Member 1 dials back where the connection came from, and names itself there.
  tcp::socket back(io_);
  const std::string expected = mesh_hello::encode_announce(1, {one.host, one.port});
  std::string hello(expected.size(), '\0');
  bool read = false;
  listener.async_accept(back, [&](const asio::error_code& ec) {
    if (ec) return;
    asio::async_read(back, asio::buffer(hello),
                     [&](const asio::error_code& ec, size_t) { read = !ec; });
  });
  ASSERT_TRUE(run_until([&] { return read; }));
  EXPECT_EQ(hello, expected);
  EXPECT_TRUE(node(1).mesh->is_guest(7));
  EXPECT_TRUE(node(1).mesh->connected(7));
}

TEST_F(PeerMeshGuestTest, SeventeenthGuestIsRefused) {
  const MeshPeer one = address(1);
  make(1, {one}, reconfig_on());
  for (int64_t id = 101; id <= 116; ++id) make(id, {one, address(id)}, reconfig_on(10s));
  ASSERT_TRUE(run_until([&] {
    for (int64_t id = 101; id <= 116; ++id)
      if (!linked(1, id)) return false;
    return true;
  }));
  EXPECT_EQ(node(1).mesh->guests().size(), 16u);

  // The 17th, as a mesh and as a raw hello.
  Node& extra = make(117, {one, address(117)}, reconfig_on(10s));
  auto s = raw_connect(one);
  asio::write(s, asio::buffer(mesh_hello::encode_announce(118, {"127.0.0.1", 9})));
  EXPECT_TRUE(closed_by_peer(s));
  EXPECT_FALSE(node(1).mesh->connected(117));
  EXPECT_FALSE(extra.mesh->connected(1));
  EXPECT_EQ(node(1).mesh->guests().size(), 16u);

  // A place frees up once a guest is forgotten, and the 17th gets in as it retries.
  nodes_.erase(101);
  ASSERT_TRUE(run_until([&] { return linked(1, 117); }, 15s));
  EXPECT_EQ(node(1).mesh->guests().size(), 16u);
}

TEST_F(PeerMeshGuestTest, MixedVersionOneAndTwoHellosWork) {
  const MeshPeer one = address(1), two = address(2), three = address(3);
  PeerAuthSettings auth;
  auth.enabled = auth.learner_require = auth.server_require = true;
  auth.username = "quorum";
  auth.password = "s3cret";
  auth.users = {{"quorum", "s3cret"}};
  // Plain: member 1 sends version 2, member 2 (an older Corral, or reconfig off) version 1.
  make(1, {one, two}, reconfig_on());
  make(2, {one, two}, MeshGuests{});
  ASSERT_TRUE(run_until([&] { return linked(1, 2); }));
  EXPECT_TRUE(exchange(1, 2, "plain"));
  // Member 2 took member 1's version-2 hello, but takes no guest: reconfig is off there.
  auto s = raw_connect(two);
  asio::write(s, asio::buffer(mesh_hello::encode_announce(9, {"127.0.0.1", 9})));
  EXPECT_TRUE(closed_by_peer(s));
  // Member 1 refuses an unknown id that does not announce itself, as before.
  auto t = raw_connect(one);
  asio::write(t, asio::buffer(be64(9)));
  EXPECT_TRUE(closed_by_peer(t));
  EXPECT_TRUE(node(1).mesh->guests().empty());

  // Authenticated: the same mix.
  nodes_.clear();
  const auto with_auth = [&](PeerMesh& m) { m.authenticate(auth, "quorum"); };
  make(1, {one, two, three}, reconfig_on(), with_auth);
  make(2, {one, two, three}, MeshGuests{}, with_auth);
  make(3, {one, two, three}, reconfig_on(), with_auth);
  ASSERT_TRUE(run_until([&] { return linked(1, 2) && linked(2, 3) && linked(1, 3); }));
  EXPECT_TRUE(exchange(1, 2, "authenticated"));
  EXPECT_TRUE(exchange(2, 3, "authenticated"));
  EXPECT_TRUE(exchange(1, 3, "authenticated v2"));
}

TEST_F(PeerMeshGuestTest, GuestMustAuthenticateWithItsOwnAccount) {
  const MeshPeer one = address(1), rogue = address(5), joiner = address(6);
  PeerAuthSettings auth;
  auth.enabled = auth.learner_require = auth.server_require = true;
  auth.users = {{"server.1", "one"}, {"server.2", "two"}, {"server.6", "six"}};
  auth.username = "server.1";
  auth.password = "one";
  make(1, {one}, reconfig_on(), [&](PeerMesh& m) { m.authenticate(auth, "quorum"); });
  // Server 5 holds member 2's account: that account serves only id 2.
  PeerAuthSettings as_two = auth;
  as_two.username = "server.2";
  as_two.password = "two";
  make(5, {one, rogue}, reconfig_on(), [&](PeerMesh& m) { m.authenticate(as_two, "quorum"); });
  // Server 6 has its own account.
  PeerAuthSettings as_six = auth;
  as_six.username = "server.6";
  as_six.password = "six";
  make(6, {one, joiner}, reconfig_on(), [&](PeerMesh& m) { m.authenticate(as_six, "quorum"); });
  ASSERT_TRUE(run_until([&] { return linked(1, 6) && node(1).mesh->refusals() >= 1; }));
  EXPECT_TRUE(exchange(1, 6, "authenticated guest"));
  EXPECT_FALSE(node(5).mesh->connected(1));
  EXPECT_FALSE(node(1).mesh->is_guest(5));
  {  // the same as a raw hello: refused before any challenge
    auto s = raw_connect(one);
    asio::write(s, asio::buffer(pa::encode_hello(
                       {5, pa::make_nonce(), "server.2", {"127.0.0.1", rogue.port}})));
    std::string got;
    EXPECT_TRUE(closed_by_peer(s, 3s, &got));
    EXPECT_EQ(got, "");
  }
  // Without authentication a guest is refused like a member.
  auto s = raw_connect(one);
  asio::write(s, asio::buffer(mesh_hello::encode_announce(7, {"127.0.0.1", 9})));
  EXPECT_TRUE(closed_by_peer(s));
  EXPECT_EQ(node(1).mesh->guests(), std::vector<int64_t>{6});
  EXPECT_TRUE(node(5).frames.empty());
  EXPECT_TRUE(node(1).frames_from(5) == 0);
}

/// Certificates from tests/tls/make_certs.sh: "server" names 127.0.0.1 and localhost,
/// "client" (CN=client) names no host.
class PeerMeshGuestTlsTest : public PeerMeshGuestTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-mesh-guest-" + std::to_string(::getpid()));
    const std::string make = std::string(CORRAL_MAKE_CERTS) + " " + dir_.string();
    ASSERT_EQ(std::system(make.c_str()), 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Server and client contexts presenting `keystore`, trusting the test CA.
  std::pair<asio::ssl::context*, asio::ssl::context*> contexts(const std::string& keystore) {
    TlsSettings s;
    s.keystore_location = (dir_ / keystore).string();
    s.truststore_location = (dir_ / "ca.crt").string();
    s.truststore_type = "PEM";
    contexts_.push_back(std::make_unique<asio::ssl::context>(make_tls_server_context(s)));
    contexts_.push_back(std::make_unique<asio::ssl::context>(make_tls_client_context(s)));
    return {contexts_[contexts_.size() - 2].get(), contexts_.back().get()};
  }

  void TearDown() override { nodes_.clear(); }

  static std::filesystem::path dir_;
  std::vector<std::unique_ptr<asio::ssl::context>> contexts_;
};

std::filesystem::path PeerMeshGuestTlsTest::dir_;

TEST_F(PeerMeshGuestTlsTest, GuestCertificateMustNameTheAnnouncedHost) {
  const MeshPeer one = address(1), good = address(4), wrong = address(5);
  auto tls = [this](const std::string& keystore) {
    auto [server, client] = contexts(keystore);
    return [server, client](PeerMesh& m) { m.use_tls(*server, *client, true); };
  };
  make(1, {one}, reconfig_on(), tls("server.pem"));
  make(4, {one, good}, reconfig_on(), tls("server.pem"));
  // Server 5 announces 127.0.0.1 with a certificate that names no host.
  make(5, {one, wrong}, reconfig_on(), tls("client.pem"));
  ASSERT_TRUE(run_until([&] { return linked(1, 4) && node(1).mesh->refusals() >= 1; }));
  EXPECT_TRUE(exchange(1, 4, "over TLS"));
  EXPECT_FALSE(node(1).mesh->is_guest(5));
  EXPECT_FALSE(node(5).mesh->connected(1));
  EXPECT_EQ(node(1).mesh->guests(), std::vector<int64_t>{4});
}

}  // namespace
}  // namespace corral::server
