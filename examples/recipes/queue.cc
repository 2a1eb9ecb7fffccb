// queue [HOSTS]: a DistributedQueue gives items back in the order they were put; a
// PriorityQueue gives the lowest priority first. Style: C++20 coroutines (asio::use_awaitable).
#include <corral/recipes/distributed_queue.h>
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
using corral::recipes::DistributedQueue;
using corral::recipes::PriorityQueue;

asio::awaitable<int> run(Client& client) {
  const std::string pid = std::to_string(getpid());
  DistributedQueue jobs(client, "/examples/jobs-" + pid);
  PriorityQueue urgent(client, "/examples/urgent-" + pid);
  std::string order;  // what came out, in order
  for (std::string job : {"resize a.jpg", "resize b.jpg"}) {
    auto node = co_await jobs.put(job, asio::use_awaitable);  // Result<std::string>: its node
    std::printf("put %s as %s\n", job.c_str(), node->c_str());
  }
  for (int i = 0; i < 2; ++i) {
    auto job = co_await jobs.take(5s, asio::use_awaitable);  // waits up to 5 s for an item
    std::printf("took %s\n", job->c_str());
    order += *job + ";";
  }
  auto empty = co_await jobs.take(0ms, asio::use_awaitable);  // 0: only if one is there now
  std::printf("take from the empty queue: %s\n", error_text(empty.error()).c_str());
  const std::pair<std::string, int> items[] = {{"low", 10}, {"high", -5}, {"mid", 0}};
  for (const auto& [item, priority] : items)
    co_await urgent.put(item, priority, asio::use_awaitable);
  for (int i = 0; i < 3; ++i) {
    auto item = co_await urgent.take(5s, asio::use_awaitable);
    std::printf("took %s\n", item->c_str());
    order += *item + ";";
  }
  // The queues' paths and /examples are containers: remove them now rather than later.
  for (auto dir : {jobs.path(), urgent.path(), std::string("/examples")})
    co_await client.remove(dir, -1, asio::use_awaitable);  // ZNOTEMPTY while others use it
  co_return order == "resize a.jpg;resize b.jpg;high;mid;low;" && !empty ? 0 : 1;
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
