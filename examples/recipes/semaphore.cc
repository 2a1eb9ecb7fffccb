// semaphore [HOSTS]: a Semaphore of 2 leases. One worker takes both; another waits until one
// is returned. Style: asio::use_future, with the client's io_context on a thread of its own.
#include <corral/recipes/semaphore.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using asio::use_future;
using corral::client::Client;
using corral::client::error_text;
using corral::recipes::Semaphore;

int run(Client& client) {
  const std::string path = "/examples/pool-" + std::to_string(getpid());
  Semaphore a(client, path, 2, "worker-a"), b(client, path, 2, "worker-b");
  auto first = a.acquire(5s, use_future).get();  // Result<Grant>
  auto second = a.acquire(5s, use_future).get();
  if (!first || !second) {
    std::fprintf(stderr, "acquire %s: %s\n", path.c_str(), error_text(first.error()).c_str());
    return 1;
  }
  auto leases = a.leases(use_future).get();  // every holder's lease nodes, in order
  for (const auto& lease : *leases) std::printf("lease %s\n", lease.c_str());
  auto none = b.acquire(0ms, use_future).get();  // 0: only if a lease is free now
  std::printf("worker-b tries: %s\n", error_text(none.error()).c_str());
  auto waiting = b.acquire(10s, use_future);
  a.release(*first, use_future).get();
  auto got = waiting.get();
  std::printf("worker-a returned a lease; worker-b: %s, fencing token %lld\n",
              error_text(got.error()).c_str(), static_cast<long long>(got->fencing_token));
  bool ok = !none && got && a.held() == 1 && b.held() == 1;
  a.release(*second, use_future).get();
  if (got) b.release(*got, use_future).get();
  // PATH/locks and PATH/leases, PATH and /examples are containers: remove them now.
  for (auto dir : {path + "/locks", path + "/leases", path, std::string("/examples")})
    client.remove(dir, -1, use_future).get();  // ZNOTEMPTY for /examples while others use it
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  corral::client::Options options;
  options.connect_string = argc > 1 ? argv[1] : "127.0.0.1:2181";
  Client client(io.get_executor(), options);
  client.start();
  int status = run(client);
  client.close(use_future).get();
  work.reset();
  io_thread.join();  // the Client goes after the last of its work
  return status;
}
