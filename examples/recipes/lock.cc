// lock [HOSTS]: two holders of one Mutex, as two processes would be. The first takes the lock
// and gets a fencing token; the second cannot take it until the first releases, and then gets
// a larger token. Style: C++20 coroutines (asio::use_awaitable, asio::co_spawn).
#include <corral/recipes/mutex.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using corral::client::Client;
using corral::client::error_text;
using corral::recipes::HoldState;
using corral::recipes::Mutex;

asio::awaitable<int> run(Client& client) {
  const std::string path = "/examples/lock-" + std::to_string(getpid());
  bool ok = false;
  {
    Mutex first(client, path, "first"), second(client, path, "second");
    // A lock is only as safe as the session: stop writing on kSuspended, give up on kLost.
    first.on_hold_state(
        [](HoldState s) { std::printf("first: hold %s\n", corral::recipes::hold_state_name(s)); });
    auto a = co_await first.acquire(5s, asio::use_awaitable);  // Result<Grant>
    if (!a) {
      std::fprintf(stderr, "acquire %s: %s\n", path.c_str(), error_text(a.error()).c_str());
      co_return 1;
    }
    std::printf("first holds %s, fencing token %lld\n", a->node.c_str(),
                static_cast<long long>(a->fencing_token));
    auto busy = co_await second.try_acquire(asio::use_awaitable);
    std::printf("second tries: %s\n", error_text(busy.error()).c_str());  // ZOPERATIONTIMEOUT
    co_await first.release(asio::use_awaitable);
    auto b = co_await second.acquire(5s, asio::use_awaitable);
    ok = b && b->fencing_token > a->fencing_token;
    // A store that remembers the largest token it has seen refuses the first holder now.
    std::printf("second holds, fencing token %lld (%s)\n", static_cast<long long>(b->fencing_token),
                ok ? "larger" : "NOT larger");
    co_await second.release(asio::use_awaitable);
  }
  // The lock's path and /examples are containers the server reaps once empty; remove them now.
  const std::string parent = "/examples";
  co_await client.remove(path, -1, asio::use_awaitable);
  co_await client.remove(parent, -1, asio::use_awaitable);  // ZNOTEMPTY while others use it
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
