// election [HOSTS]: a LeaderLatch election between host-a and host-b (host-a resigns, host-b
// takes over), then a LeaderSelector that runs a function for each term of leadership.
// Style: C++20 coroutines (asio::use_awaitable), and the selector's callback.
#include <corral/recipes/leader_latch.h>
#include <corral/recipes/leader_selector.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using corral::client::Client;
using corral::client::error_text;
using corral::recipes::LeaderLatch;
using corral::recipes::LeaderSelector;
using corral::recipes::LeaderTerm;

asio::awaitable<int> run(Client& client) {
  const std::string path = "/examples/election-" + std::to_string(getpid());
  LeaderLatch a(client, path + "/latch", "host-a"), b(client, path + "/latch", "host-b");
  for (LeaderLatch* latch : {&a, &b})  // called when leadership starts and when it stops
    latch->on_leadership([id = latch->id()](bool leading) {
      std::printf("%s: %s\n", id.c_str(), leading ? "leading" : "not leading");
    });
  a.start();
  auto led = co_await a.await_leadership(5s, asio::use_awaitable);
  b.start();
  auto leader = co_await b.leader(asio::use_awaitable);  // Result<Participant>
  std::printf("leader: %s (node %s)\n", leader->id.c_str(), leader->node.c_str());
  co_await a.close(asio::use_awaitable);  // resign: the next in line leads
  auto next = co_await b.await_leadership(5s, asio::use_awaitable);
  std::printf("host-b after host-a resigned: %s\n", error_text(next.error()).c_str());
  co_await b.close(asio::use_awaitable);

  // A selector calls its function at the start of each term; the term lasts until finish().
  int terms = 0;
  LeaderSelector selector(
      client, path + "/selector", "host-c",
      [&terms](LeaderTerm term) {
        std::printf("host-c: term %d, fencing token %lld\n", ++terms,
                    static_cast<long long>(term.fencing_token()));
        term.on_lost([] { std::printf("host-c: term lost: stop acting as leader\n"); });
        term.finish();  // the work is done: give leadership up
      },
      /*auto_requeue=*/false);
  selector.start();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 500 && (terms < 1 || selector.has_leadership()); ++i) {
    timer.expires_after(20ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_await selector.close(asio::use_awaitable);

  for (auto dir : {path + "/latch", path + "/selector", path, std::string("/examples")})
    co_await client.remove(dir, -1, asio::use_awaitable);  // containers: gone now, not later
  bool ok = led.ok() && leader.ok() && leader->id == "host-a" && next.ok() && terms == 1;
  co_return ok ? 0 : 1;
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
