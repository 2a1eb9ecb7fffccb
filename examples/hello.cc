// hello HOSTS: connects, creates /hello-<pid> (ephemeral), reads it back with a watch,
// changes it, and prints the watch event: the client library from a C++20 coroutine.
#include <corral/client/client.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

using corral::client::Client;

namespace {

asio::awaitable<int> run(Client& client) {
  std::string path = "/hello-" + std::to_string(getpid());
  // Arguments are named variables rather than temporaries inside the co_await expression:
  // g++ 12 destroys such temporaries twice (GCC bug 100611).
  corral::client::CreateOptions ephemeral{corral::client::CreateMode::kEphemeral};
  auto created = co_await client.create(path, "hello", ephemeral, asio::use_awaitable);
  if (!created) {
    std::fprintf(stderr, "create %s: %s\n", path.c_str(),
                 corral::client::error_text(created.error()).c_str());
    co_return 1;
  }
  corral::client::Watcher print_event = [](const corral::client::WatchEvent& e) {
    std::printf("watch: event %d on %s\n", static_cast<int>(e.type), e.path.c_str());
  };
  auto got = co_await client.get(path, print_event, asio::use_awaitable);
  std::printf("%s = %s (version %d)\n", path.c_str(), got->data.c_str(), got->stat.version);
  auto set = co_await client.set(path, "world", got->stat.version, asio::use_awaitable);
  std::printf("set: %s, version %d\n", corral::client::error_text(set.error()).c_str(),
              set->version);
  co_await client.close(asio::use_awaitable);
  co_return set ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hello HOST:PORT[,HOST:PORT...]\n");
    return 2;
  }
  asio::io_context io;
  corral::client::Options options;
  options.connect_string = argv[1];
  Client client(io.get_executor(), options);
  client.start();
  int status = 1;
  asio::co_spawn(io, run(client), [&](std::exception_ptr e, int rc) { status = e ? 1 : rc; });
  io.run();
  return status;
}
