// barrier [HOSTS]: a Barrier holds a worker back until the coordinator removes it; then two
// members of a DoubleBarrier enter together and leave together.
// Style: asio::use_future, with the client's io_context on a thread of its own.
#include <corral/recipes/barrier.h>
#include <corral/recipes/double_barrier.h>
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
using corral::recipes::Barrier;
using corral::recipes::DoubleBarrier;

int run(Client& client) {
  const std::string gate_path = "/examples/gate-" + std::to_string(getpid());
  const std::string round_path = "/examples/round-" + std::to_string(getpid());
  Barrier gate(client, gate_path);
  gate.set(use_future).get();  // the coordinator closes the gate
  auto early = gate.wait(200ms, use_future).get();
  std::printf("worker waits 200 ms: %s\n", error_text(early.error()).c_str());
  auto worker = gate.wait(10s, use_future);
  gate.remove(use_future).get();  // the coordinator opens it: every waiter goes on
  auto opened = worker.get();
  std::printf("gate removed; worker: %s\n", error_text(opened.error()).c_str());

  DoubleBarrier a(client, round_path, 2, "member-a"), b(client, round_path, 2, "member-b");
  auto a_in = a.enter(10s, use_future);
  bool alone = a_in.wait_for(300ms) == std::future_status::timeout;
  std::printf("member-a alone %s\n", alone ? "waits" : "did not wait");
  auto b_in = b.enter(10s, use_future);
  auto entered_a = a_in.get(), entered_b = b_in.get();
  std::printf("entered together: %s, %s\n", error_text(entered_a.error()).c_str(),
              error_text(entered_b.error()).c_str());
  auto a_out = a.leave(10s, use_future), b_out = b.leave(10s, use_future);
  auto left_a = a_out.get(), left_b = b_out.get();
  std::printf("left together: %s, %s\n", error_text(left_a.error()).c_str(),
              error_text(left_b.error()).c_str());

  client.remove(round_path, -1, use_future).get();   // a container: gone now, not later
  client.remove("/examples", -1, use_future).get();  // ZNOTEMPTY while others use it
  bool ok = !early && opened && alone && entered_a && entered_b && left_a && left_b;
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
