// Every quorum connection of an ensemble through a TcpProxy of its own, so a test can hold or
// slow what travels to one member without touching the servers.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/tcp_proxy.h"

namespace corral::e2e {

/// Member i's zoo.cfg names, for each other member j, a proxy in front of j's quorum port.
class QuorumProxies {
 public:
  /// Rewrites the members' zoo.cfg files (before they start); check ok().
  explicit QuorumProxies(Ensemble& e);

  /// True when every link has its proxy.
  bool ok() const { return ok_; }
  /// Holds (or releases) every byte travelling to member `to`, on connections either side made.
  void hold_into(int to, bool hold);
  /// Slows each proxy on a link to or from `member` to `bytes_per_second` (0: no limit).
  void limit_rate_of(int member, size_t bytes_per_second);

 private:
  struct Link {
    int from;  // whose zoo.cfg names the proxy (the member that connects through it)
    int to;    // the member behind it
    std::unique_ptr<TcpProxy> proxy;
  };
  std::vector<Link> links_;
  bool ok_ = false;
};

}  // namespace corral::e2e
