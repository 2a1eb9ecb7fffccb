// config [HOSTS]: an editor writes a JSON config node with compare-and-set while a reader
// watches it; a write based on an old version is refused. Style: C++20 coroutines.
#include <corral/recipes/config_node.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

using namespace std::chrono_literals;
using corral::client::Client;
using corral::client::error_text;
using corral::client::ErrorCode;
using corral::recipes::ConfigNode;
using corral::recipes::ConfigValue;

asio::awaitable<int> run(Client& client) {
  const std::string path = "/examples/config-" + std::to_string(getpid());
  bool ok = false;
  {
    ConfigNode editor(client, path), reader(client, path);
    reader.on_change([](const ConfigValue& v) {  // each new value once, in order
      std::printf("reader: version %d: %s\n", v.version, v.exists() ? v.data.c_str() : "(none)");
    });
    co_await reader.start(asio::use_awaitable);  // Result<ConfigValue>: the value now
    co_await editor.start(asio::use_awaitable);
    nlohmann::json config = {{"replicas", 2}, {"zone", "b"}};
    auto made = co_await editor.update_json(-1, config, asio::use_awaitable);  // -1: create it
    config["replicas"] = 3;
    auto changed = co_await editor.update_json(made->version, config, asio::use_awaitable);
    // An editor that read version 0 too late gets ZBADVERSION: re-read current(), edit again.
    auto stale = co_await editor.update_json(made->version, config, asio::use_awaitable);
    std::printf("update at version %d again: %s\n", made->version,
                error_text(stale.error()).c_str());
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < 500 && reader.current().version < changed->version; ++i) {
      timer.expires_after(20ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    auto seen = reader.current_json();  // Result<nlohmann::json>; never throws
    int replicas = seen ? seen->value("replicas", 0) : 0;
    std::printf("reader sees replicas=%d\n", replicas);
    ok = made.ok() && changed.ok() && stale.error() == ErrorCode::kBadVersion && replicas == 3;
  }  // the ConfigNodes stop watching: their listeners are not called again
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
