// counter [HOSTS]: a SharedCounter (Curator's DistributedAtomicLong layout): add 5, add -2,
// read it, and see a compare-and-set at a stale version refused.
// Style: completion callbacks, each step started by the one before.
#include <corral/recipes/shared_counter.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <cstdio>
#include <string>

using corral::client::Client;
using corral::client::error_text;
using corral::client::ErrorCode;
using corral::client::Result;
using corral::recipes::CounterValue;
using corral::recipes::SharedCounter;

int main(int argc, char** argv) {
  asio::io_context io;
  corral::client::Options options;
  options.connect_string = argc > 1 ? argv[1] : "127.0.0.1:2181";
  Client client(io.get_executor(), options);
  client.start();
  const std::string path = "/examples/counter-" + std::to_string(getpid());
  SharedCounter hits(client, path);  // the Client outlives it; both outlive io.run()
  int status = 1;

  // The last step: remove the counter (and /examples if no other example uses it), close.
  auto finish = [&] {
    client.remove(path, -1, [&](Result<void>) {
      client.remove("/examples", -1, [&](Result<void>) { client.close([](Result<void>) {}); });
    });
  };
  hits.add(5, [&](Result<int64_t> five) {  // Result<int64_t>: the new value
    if (!five) {
      std::fprintf(stderr, "add: %s\n", error_text(five.error()).c_str());
      return finish();
    }
    std::printf("add 5: %lld\n", static_cast<long long>(*five));
    hits.add(-2, [&](Result<int64_t> three) {
      std::printf("add -2: %lld\n", static_cast<long long>(*three));
      hits.get([&](Result<CounterValue> now) {
        std::printf("counter: %lld at version %d\n", static_cast<long long>(now->value),
                    now->version);
        // A write at a version that is no longer current is refused: re-read and try again.
        hits.compare_and_set(now->version - 1, 100, [&, now](Result<CounterValue> stale) {
          std::printf("compare_and_set at version %d: %s\n", now->version - 1,
                      error_text(stale.error()).c_str());
          if (now->value == 3 && stale.error() == ErrorCode::kBadVersion) status = 0;
          finish();
        });
      });
    });
  });
  io.run();
  return status;
}
