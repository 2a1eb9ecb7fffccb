// PeerMesh's handshakes: TLS, then a connector's id, its version-2 hello (peer_mesh_hello.h)
// or its authentication (peer_auth.h), before any frame is passed up. An unlisted id that
// announces its address becomes a guest here, once it passed the same checks as a member. Nothing a
// connection sends counts until it is identified.
#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/peer_mesh_connections.h"
#include "ensemble/server/tls_context.h"
#include "wire/sasl/digest_md5.h"

namespace corral::server {

using asio::ip::tcp;
using namespace mesh_bytes;
namespace pa = peer_auth;

namespace {

// What a proof binds of a hello's address: nothing for a version-1 hello.
std::string announced_text(const mesh_hello::Address& a) { return a.host.empty() ? "" : a.text(); }

}  // namespace

void PeerMesh::authenticate(PeerAuthSettings auth, std::string purpose) {
  auth_ = std::move(auth);
  purpose_ = std::move(purpose);
}

void PeerMesh::use_tls(asio::ssl::context& server, asio::ssl::context& client, bool verify_host) {
  tls_server_ = &server;
  tls_client_ = &client;
  tls_verify_host_ = verify_host;
}

void PeerMesh::outbound_connected(const std::shared_ptr<Outbound>& c) {
  Link& l = links_.at(c->peer);
  asio::error_code local_ec, remote_ec;
  auto local = c->stream.socket().local_endpoint(local_ec);
  auto remote = c->stream.socket().remote_endpoint(remote_ec);
  // Connecting to a local port nobody listens on can, rarely, connect the socket to
  // itself (TCP simultaneous open); that is no member.
  if (local_ec || remote_ec || local == remote) return outbound_lost(c);
  asio::error_code ec;
  c->stream.socket().set_option(tcp::no_delay(true), ec);
  if (tls_client_) {
    c->stream.use_tls(*tls_client_);
    tls::set_peer_host(c->stream.ssl(), l.peer.host, tls_verify_host_);
  }
  c->stream.handshake(false, [this, c](const asio::error_code& ec) {
    if (c->closed) return;
    if (ec) {
      Link& l = links_.at(c->peer);
      if (!std::exchange(l.auth_warned, true))
        spdlog::warn("peer mesh {} ({}): TLS handshake with member {} failed: {}", my_id_, purpose_,
                     c->peer, ec.message());
      return outbound_lost(c);
    }
    // As ZooKeeper's learner: with learnerRequireSasl off it does not authenticate at all.
    if (auth_.enabled && auth_.learner_require) return outbound_authenticate(c);
    outbound_up(c);
  });
}

void PeerMesh::outbound_authenticate(const std::shared_ptr<Outbound>& c) {
  c->nonce = pa::make_nonce();
  c->handshake = pa::encode_hello({my_id_, c->nonce, auth_.username, announced()});
  c->stream.async_write(asio::buffer(c->handshake), [this, c](const asio::error_code& ec, size_t) {
    if (c->closed) return;
    if (ec) return outbound_lost(c);
    c->handshake.assign(pa::kChallengeBytes, '\0');
    c->stream.async_read(asio::buffer(c->handshake), [this, c](const asio::error_code& ec, size_t) {
      if (c->closed) return;
      if (!ec) return outbound_prove(c);
      Link& l = links_.at(c->peer);
      if (!std::exchange(l.auth_warned, true))
        spdlog::warn(
            "peer mesh {} ({}): member {} refused our authentication as "
            "'{}' (closed the connection)",
            my_id_, purpose_, c->peer, auth_.username);
      outbound_lost(c);
    });
  });
}

void PeerMesh::outbound_prove(const std::shared_ptr<Outbound>& c) {
  const std::string_view challenge = c->handshake;
  const std::string acceptor_nonce(challenge.substr(1, pa::kNonceBytes));
  const std::string me_text = announced_text(announced());
  const std::string expected =
      pa::proof(pa::Role::kAcceptor, purpose_, auth_.password, my_id_, c->peer, auth_.username,
                c->nonce, acceptor_nonce, me_text);
  if (challenge[0] != pa::kAccepted ||
      !sasl::equal_secrets(expected, challenge.substr(1 + pa::kNonceBytes))) {
    // Whoever listens there does not know our password: it gets no frame from us.
    Link& l = links_.at(c->peer);
    if (!std::exchange(l.auth_warned, true))
      spdlog::warn("peer mesh {} ({}): member {} at {}:{} failed to prove it knows the secret",
                   my_id_, purpose_, c->peer, l.peer.host, l.peer.port);
    return outbound_lost(c);
  }
  c->handshake = pa::proof(pa::Role::kConnector, purpose_, auth_.password, my_id_, c->peer,
                           auth_.username, c->nonce, acceptor_nonce, me_text);
  c->stream.async_write(asio::buffer(c->handshake), [this, c](const asio::error_code& ec, size_t) {
    if (c->closed) return;
    if (ec) return outbound_lost(c);
    c->stream.async_read(asio::buffer(&c->probe, 1), [this, c](const asio::error_code& ec, size_t) {
      if (c->closed) return;
      if (ec || c->probe != pa::kAccepted) {
        Link& l = links_.at(c->peer);
        if (!std::exchange(l.auth_warned, true))
          spdlog::warn("peer mesh {} ({}): member {} refused our proof as '{}' (wrong password?)",
                       my_id_, purpose_, c->peer, auth_.username);
        return outbound_lost(c);
      }
      outbound_up(c);
    });
  });
}

void PeerMesh::inbound_accepted(const std::shared_ptr<Inbound>& c) {
  if (tls_server_) c->stream.use_tls(*tls_server_);
  c->stream.handshake(true, [this, c, token = running_](const asio::error_code& ec) {
    if (!*token || c->closed) return;
    if (ec) return refuse(c, "TLS handshake failed: " + ec.message());
    read_inbound(c);
  });
}

size_t PeerMesh::inbound_hello(const std::shared_ptr<Inbound>& c, size_t pos) {
  const std::string_view data(c->in.data() + pos, c->used - pos);
  if (data.size() < 8) return 0;
  const uint64_t first = get_be64(data.data());
  if (first != pa::kHelloMagic) {
    const bool v2 = first == mesh_hello::kAnnounceMagic;
    if (auth_.enabled && auth_.server_require) {
      refuse(c, v2 ? "a server announcing itself did not authenticate "
                     "(quorum.auth.serverRequireSasl=true)"
                   : "member id " + std::to_string(static_cast<int64_t>(first)) +
                         " did not authenticate (quorum.auth.serverRequireSasl=true)");
      return 0;
    }
    if (v2) return inbound_announce(c, data);
    return identify(c, static_cast<int64_t>(first), false, {}) ? 8 : 0;
  }
  if (!auth_.enabled) {
    refuse(c, "it authenticates but quorum.auth.enableSasl=false here");
    return 0;
  }
  pa::Hello hello;
  size_t consumed = 0;
  switch (pa::decode_hello(data, hello, consumed)) {
    case pa::Decode::kNeedMore:
      return 0;
    case pa::Decode::kMalformed:
      refuse(c, "malformed authentication hello");
      return 0;
    case pa::Decode::kDone:
      break;
  }
  // A connector that authenticates requires success (learnerRequireSasl), so unlike
  // ZooKeeper's serverRequireSasl=false there is no point letting a failure through.
  const std::string who = "'" + hello.username + "' claiming member id " + std::to_string(hello.id);
  if (!links_.contains(hello.id)) {
    if (auto why = guest_refusal(hello.id, hello.address)) {
      refuse(c, who + ": " + *why);
      return 0;
    }
  }
  auto user = auth_.users.find(hello.username);
  if (user == auth_.users.end()) {
    refuse(c, who + ": unknown user");
    return 0;
  }
  if (auto bound = pa::bound_id(hello.username); bound && *bound != hello.id) {
    refuse(c, who + ": that account belongs to member " + std::to_string(*bound));
    return 0;
  }
  c->nonce = pa::make_nonce();
  std::string challenge(1, static_cast<char>(pa::kAccepted));
  challenge += c->nonce;
  challenge += pa::proof(pa::Role::kAcceptor, purpose_, user->second, hello.id, my_id_,
                         hello.username, hello.nonce, c->nonce, announced_text(hello.address));
  c->hello = std::move(hello);
  inbound_write(c, std::move(challenge));
  return consumed;
}

size_t PeerMesh::inbound_proof(const std::shared_ptr<Inbound>& c, size_t pos) {
  if (c->used - pos < pa::kProofBytes) return 0;
  const pa::Hello& hello = *c->hello;
  const std::string expected =
      pa::proof(pa::Role::kConnector, purpose_, auth_.users.find(hello.username)->second, hello.id,
                my_id_, hello.username, hello.nonce, c->nonce, announced_text(hello.address));
  if (!sasl::equal_secrets(expected, std::string_view(c->in.data() + pos, pa::kProofBytes))) {
    refuse(c, "'" + hello.username + "' claiming member id " + std::to_string(hello.id) +
                  ": wrong proof (wrong password)");
    return 0;
  }
  inbound_write(c, std::string(1, static_cast<char>(pa::kAccepted)));
  return identify(c, hello.id, true, hello.address) ? pa::kProofBytes : 0;
}

size_t PeerMesh::inbound_announce(const std::shared_ptr<Inbound>& c, std::string_view data) {
  int64_t id = 0;
  mesh_hello::Address address;
  size_t consumed = 0;
  switch (mesh_hello::decode_announce(data, id, address, consumed)) {
    case mesh_hello::Decode::kNeedMore:
      return 0;
    case mesh_hello::Decode::kMalformed:
      refuse(c, "malformed hello");
      return 0;
    case mesh_hello::Decode::kDone:
      break;
  }
  return identify(c, id, false, std::move(address)) ? consumed : 0;
}

void PeerMesh::inbound_write(const std::shared_ptr<Inbound>& c, std::string bytes) {
  if (!bytes.empty()) c->out.push_back(std::move(bytes));
  if (c->writing || c->out.empty()) return;
  c->writing = true;
  c->stream.async_write(asio::buffer(c->out.front()),
                        [this, c](const asio::error_code& ec, size_t) {
                          c->writing = false;
                          if (c->closed) return;
                          if (ec) return inbound_lost(c);
                          c->out.pop_front();
                          inbound_write(c, {});
                        });
}

bool PeerMesh::identify(const std::shared_ptr<Inbound>& c, int64_t id, bool authenticated,
                        mesh_hello::Address address) {
  // A wildcard says nothing about where to dial back (as ZooKeeper's InitialMessage, which
  // skips it): the connection's source address does.
  if (auto a = mesh_literal_address(address.host); a && a->is_unspecified()) {
    asio::error_code ec;
    auto remote = c->stream.socket().remote_endpoint(ec);
    if (!ec) address.host = remote.address().to_string();
  }
  auto it = links_.find(id);
  if (it == links_.end()) {
    if (auto why = guest_refusal(id, address)) {
      refuse(c, *why);
      return false;
    }
  }
  // A guest is dialled where it says it listens; a member where the member list says.
  const bool moved_guest =
      it != links_.end() && it->second.guest && !address.host.empty() &&
      (address.host != it->second.peer.host || address.port != it->second.peer.port);
  const std::string& host = it == links_.end() || moved_guest ? address.host : it->second.peer.host;
  if (c->stream.tls() && tls_verify_host_ && !tls_peer_matches_host(c->stream.ssl(), host)) {
    refuse(c, "server id " + std::to_string(id) + ": its certificate does not name " + host +
                  " (ssl.quorum.hostnameVerification)");
    return false;
  }
  if (it == links_.end()) {
    spdlog::info("peer mesh {} ({}): server {} at {} is no member; accepted as a guest", my_id_,
                 purpose_, id, address.text());
    it = links_.find(add_link({id, address.host, address.port}, true).peer.id);
  } else if (moved_guest) {
    spdlog::info("peer mesh {} ({}): guest {} now listens at {}", my_id_, purpose_, id,
                 address.text());
    set_address(it->second, {id, address.host, address.port});
    redial(it->second);
  }
  pending_.erase(c);
  c->identified = true;
  c->peer = id;
  c->deadline.cancel();
  auto old = std::exchange(it->second.in, c);
  update_linger(it->second);
  spdlog::debug("peer mesh {} ({}): inbound connection from {} {} ({}){}{}", my_id_, purpose_,
                it->second.guest ? "guest" : "member", id, c->remote,
                c->stream.tls() ? " over TLS" : "",
                authenticated ? ", authenticated as '" + c->hello->username + "'" : "");
  if (old) {
    spdlog::debug("peer mesh {}: replacing the older inbound connection from member {}", my_id_,
                  id);
    old->close();
    if (handlers_.disconnected) handlers_.disconnected(id);
    if (c->closed) return false;  // the handler stopped the mesh
  }
  return true;
}

void PeerMesh::refuse(const std::shared_ptr<Inbound>& c, const std::string& why) {
  ++refusals_;
  spdlog::warn("peer mesh {} ({}): refusing connection from {}: {}", my_id_, purpose_, c->remote,
               why);
  inbound_lost(c);
}

}  // namespace corral::server
