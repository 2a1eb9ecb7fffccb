// PeerMesh's member list at run time (dynamic reconfiguration): set_members(), and guests,
// the servers outside the list that announced where they listen (peer_mesh_hello.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/peer_mesh_connections.h"

namespace corral::server {

void PeerMesh::set_members(const std::vector<MeshPeer>& peers) {
  std::map<int64_t, const MeshPeer*> wanted;
  for (const auto& p : peers)
    if (!wanted.emplace(p.id, &p).second)
      throw std::invalid_argument("PeerMesh: member id repeated: " + std::to_string(p.id));
  if (auto me = wanted.find(my_id_); me != wanted.end()) {
    // Moving the listener is the caller's business (it needs a new mesh): until then, others
    // keep reaching this server where it listens.
    if (me->second->host != self_.host || me->second->port != self_.port)
      spdlog::warn(
          "peer mesh {} ({}): the member list puts this server at {}:{}; it still "
          "listens on {}:{}",
          my_id_, purpose_, me->second->host, me->second->port, self_.host, self_.port);
    wanted.erase(me);
  }
  for (auto& [id, l] : links_) {
    if (l.guest || wanted.contains(id)) continue;
    // A removed server may still follow this one's leader: keep its connections while they
    // last.
    l.guest = true;
    spdlog::info("peer mesh {} ({}): server {} is no member any more; kept as a guest", my_id_,
                 purpose_, id);
    update_linger(l);
  }
  for (const auto& [id, p] : wanted) {
    auto it = links_.find(id);
    if (it == links_.end()) {
      spdlog::info("peer mesh {} ({}): new member {} at {}:{}", my_id_, purpose_, id, p->host,
                   p->port);
      add_link(*p, false);
      continue;
    }
    Link& l = it->second;
    if (l.guest) {
      l.guest = false;
      spdlog::info("peer mesh {} ({}): guest {} is a member now", my_id_, purpose_, id);
      update_linger(l);
    }
    if (l.peer.host == p->host && l.peer.port == p->port) continue;
    spdlog::info("peer mesh {} ({}): member {} moves from {}:{} to {}:{}", my_id_, purpose_, id,
                 l.peer.host, l.peer.port, p->host, p->port);
    set_address(l, *p);
    reset(id);
  }
}

bool PeerMesh::is_guest(int64_t id) const {
  auto it = links_.find(id);
  return it != links_.end() && it->second.guest;
}

std::vector<int64_t> PeerMesh::guests() const {
  std::vector<int64_t> ids;
  for (const auto& [id, l] : links_)
    if (l.guest) ids.push_back(id);
  return ids;
}

PeerMesh::Link& PeerMesh::add_link(const MeshPeer& p, bool guest) {
  Link& l = links_.try_emplace(p.id, io_, p).first->second;
  set_address(l, p);
  l.guest = guest;
  if (running_) connect(l);  // a new link starts at the shortest backoff
  return l;
}

void PeerMesh::update_linger(Link& l) {
  const bool down = !(l.out && l.out->up) && !l.in;
  if (!l.guest || !down || !running_) {
    if (l.linger_generation != 0) {
      l.linger_generation = 0;
      l.linger.cancel();
    }
    return;
  }
  if (l.linger_generation != 0) return;  // already counting since it went down
  const uint64_t generation = l.linger_generation = ++next_generation_;
  l.linger.expires_after(guests_.linger);
  l.linger.async_wait(
      [this, id = l.peer.id, generation, token = running_](const asio::error_code& ec) {
        if (!*token || ec) return;
        auto it = links_.find(id);
        if (it == links_.end() || it->second.linger_generation != generation) return;
        spdlog::info("peer mesh {} ({}): forgetting guest {}: unreachable both ways for {} ms",
                     my_id_, purpose_, id, guests_.linger.count());
        drop_guest(id);
      });
}

void PeerMesh::drop_guest(int64_t id) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  Link& l = it->second;
  l.timer.cancel();
  l.linger.cancel();
  if (l.out) l.out->close();
  if (l.in) l.in->close();
  links_.erase(it);
}

std::optional<std::string> PeerMesh::guest_refusal(int64_t id,
                                                   const mesh_hello::Address& address) const {
  const std::string who = "unknown member id " + std::to_string(id);
  if (!guests_.enabled) return who;
  if (address.host.empty()) return who + " (it does not announce its address)";
  if (id == my_id_) return who + ": that is this server's own id";
  if (id < 0) return who + ": not a server id";
  const auto count = static_cast<size_t>(
      std::count_if(links_.begin(), links_.end(), [](const auto& e) { return e.second.guest; }));
  if (count >= guests_.max)
    return who + ": already " + std::to_string(count) + " guests (the limit)";
  return std::nullopt;
}

mesh_hello::Address PeerMesh::announced() const {
  if (!guests_.enabled) return {};
  return {self_.host, self_.port};
}

}  // namespace corral::server
