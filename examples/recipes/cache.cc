// cache [HOSTS]: a TreeCache follows a subtree and a NodeCache one node in it while the node
// is created, changed and deleted. Style: C++20 coroutines, and the caches' listeners.
#include <corral/recipes/node_cache.h>
#include <corral/recipes/tree_cache.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <functional>
#include <string>

using namespace std::chrono_literals;
using corral::client::Client;
using corral::client::CreateMode;
using namespace corral::recipes;

// Waits until `done()` (the caches follow the server a moment behind); false after 10 s.
asio::awaitable<bool> eventually(const std::function<bool()>& done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 500 && !done(); ++i) {
    timer.expires_after(20ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return done();
}

asio::awaitable<int> run(Client& client) {
  const std::string parent = "/examples", root = parent + "/cache-" + std::to_string(getpid());
  const std::string db = root + "/db";
  const std::string none, v1 = "v1", v2 = "v2";
  corral::client::CreateOptions container(CreateMode::kContainer), persistent;
  co_await client.create(parent, none, container, asio::use_awaitable);  // or ZNODEEXISTS
  co_await client.create(root, none, persistent, asio::use_awaitable);
  TreeCache tree(client, root);
  tree.on_event([](const TreeCacheEvent& e) {
    std::printf("tree: %s %s %s\n", tree_cache_event_name(e.kind), e.path.c_str(),
                e.node.data.c_str());
  });
  NodeCache node(client, db);  // the node need not exist
  node.on_change([](const NodeCacheEvent& e) {
    std::printf("node: %s %s\n", node_cache_event_name(e.kind), e.node ? e.node->data.c_str() : "");
  });
  auto loaded = co_await tree.start(asio::use_awaitable);  // the subtree is loaded
  auto read = co_await node.start(asio::use_awaitable);    // the node is read
  // Changes that come quickly may reach a cache as one: wait for each before the next.
  auto both_show = [&](const std::string& data) -> std::function<bool()> {
    return [&node, &tree, db, data] {
      auto n = node.current();
      auto t = tree.get(db);
      return data.empty() ? !n && !t : n && t && n->data == data && t->data == data;
    };
  };
  const std::function<bool()> at_v1 = both_show(v1), at_v2 = both_show(v2), gone = both_show(none);
  co_await client.create(db, v1, persistent, asio::use_awaitable);
  bool ok = co_await eventually(at_v1);
  co_await client.set(db, v2, -1, asio::use_awaitable);
  ok = ok && co_await eventually(at_v2);
  co_await client.remove(db, -1, asio::use_awaitable);
  ok = ok && co_await eventually(gone);
  std::printf("caches followed create, set, delete: %s\n", ok ? "yes" : "no");
  node.close();
  co_await tree.close(asio::use_awaitable);  // its persistent watch is removed from the server
  co_await client.remove(root, -1, asio::use_awaitable);
  co_await client.remove(parent, -1, asio::use_awaitable);  // ZNOTEMPTY while others use it
  co_return loaded.ok() && read.ok() && ok ? 0 : 1;
}

int main(int argc, char** argv) {
  asio::io_context io;
  corral::client::Options options;
  options.connect_string = argc > 1 ? argv[1] : "127.0.0.1:2181";
  Client client(io.get_executor(), options);
  client.start();
  int status = 1;
  asio::co_spawn(io, run(client), [&](std::exception_ptr e, int rc) {
    status = e ? 1 : rc;
    client.close(asio::detached);  // whatever run() did: then io.run() returns
  });
  io.run();
  return status;
}
