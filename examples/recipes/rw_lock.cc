// rw_lock [HOSTS]: two readers share a ReadWriteLock; a writer waits for both, and a reader
// that comes after the waiting writer waits too (writers never starve).
// Style: asio::use_future, with the client's io_context on a thread of its own.
#include <corral/recipes/read_write_lock.h>
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
using corral::recipes::ReadWriteLock;

int run(Client& client) {
  const std::string path = "/examples/rw-lock-" + std::to_string(getpid());
  ReadWriteLock one(client, path, "reader-1"), two(client, path, "reader-2");
  ReadWriteLock writer(client, path, "writer"), late(client, path, "reader-3");
  auto r1 = one.read_lock().acquire(5s, use_future).get();
  auto r2 = two.read_lock().acquire(5s, use_future).get();
  std::printf("reader-1: %s, reader-2: %s (shared)\n", error_text(r1.error()).c_str(),
              error_text(r2.error()).c_str());
  auto w = writer.write_lock().acquire(10s, use_future);  // queued behind both readers
  for (int i = 0; i < 1000 && one.read_lock().participants(use_future).get()->size() < 3; ++i)
    std::this_thread::sleep_for(10ms);  // (until the writer is in line)
  auto r3 = late.read_lock().try_acquire(use_future).get();
  std::printf("reader-3 behind the waiting writer: %s\n", error_text(r3.error()).c_str());
  one.read_lock().release(use_future).get();
  two.read_lock().release(use_future).get();
  auto held = w.get();
  std::printf("writer: %s, fencing token %lld\n", error_text(held.error()).c_str(),
              static_cast<long long>(held->fencing_token));
  bool ok = r1 && r2 && !r3 && held && held->fencing_token > r2->fencing_token;
  writer.write_lock().release(use_future).get();
  client.remove(path, -1, use_future).get();
  client.remove("/examples", -1, use_future).get();  // ZNOTEMPTY while others use it
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
