// Fills a server's tree quickly for tests that need a large one: multis, each creating a
// parent /p<k> and its children, a few in flight.
#pragma once

#include <cstddef>
#include <string>

#include "tests/e2e/raw_client.h"

namespace corral::e2e {

/// The shape of the tree: `parents` multis, each creating /p<k> (k from 0) and its
/// `children` children /p<k>/<i>, every node with `data_bytes` bytes of data. A multi must
/// stay within jute.maxbuffer (1 MB): children * data_bytes well below it.
struct TreeShape {
  int parents = 200;
  int children = 500;
  size_t data_bytes = 1000;
  /// Multis in flight: enough to keep the server busy, few enough that their replies never
  /// pile up in its output buffer.
  int window = 4;

  int nodes() const { return parents * (children + 1); }
  /// The last node the fill creates.
  std::string last_path() const {
    return "/p" + std::to_string(parents - 1) + "/" + std::to_string(children - 1);
  }
};

/// Creates `shape`'s tree through `client` (after its handshake): "" when every multi was
/// answered with ZOK, else what went wrong.
std::string fill_tree(RawClient& client, const TreeShape& shape);

/// `count` setData of `path` (which must exist) to `value`, `window` in flight, each one txn:
/// to move the leader's history on. "" when every one was answered with ZOK, else what went
/// wrong.
std::string set_many(RawClient& client, const std::string& path, int count, int window = 100,
                     const std::string& value = "v");

}  // namespace corral::e2e
