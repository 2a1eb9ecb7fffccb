// nemesis_owner: one client session that owns ephemerals, as a process of its own so the
// test can end the session either way a real client does: cleanly (close) or by dying
// (SIGKILL, the session left to expire).
//
//   nemesis_owner CONNECT_STRING SESSION_TIMEOUT_MS PATH...
//
// Prints "session <id> <granted ms>", then per path "created <path>", "unknown <path>" (no
// definite answer) or "failed <path> <rc>", then "ready". Afterwards a line "close" on stdin
// closes the session and prints "closed <rc>"; end of stdin (the test went away) exits
// without closing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "corral/client/blocking.h"
#include "corral/client/client.h"

namespace {

using corral::client::ErrorCode;

bool definite(ErrorCode e) {
  return e != ErrorCode::kConnectionLoss && e != ErrorCode::kOperationTimeout &&
         e != ErrorCode::kSessionExpired && e != ErrorCode::kRequestTimeout;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: nemesis_owner CONNECT_STRING SESSION_TIMEOUT_MS PATH...\n");
    return 2;
  }
  corral::client::Options options;
  options.connect_string = argv[1];
  options.session_timeout = std::chrono::milliseconds(std::atoi(argv[2]));
  corral::client::BlockingClient client(options);
  if (!client.wait_connected(std::chrono::seconds(8))) {
    std::printf("noconnect\n");
    std::fflush(stdout);
    std::_Exit(1);
  }
  std::printf("session %lld %lld\n", static_cast<long long>(client.async().session_id()),
              static_cast<long long>(client.async().session_timeout().count()));
  for (int i = 3; i < argc; ++i) {
    auto r = client.create(argv[i], "", corral::client::CreateMode::kEphemeral);
    if (r.ok())
      std::printf("created %s\n", argv[i]);
    else if (!definite(r.error()))
      std::printf("unknown %s\n", argv[i]);
    else
      std::printf("failed %s %d\n", argv[i], static_cast<int>(r.error()));
    std::fflush(stdout);
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line) || line != "close") std::_Exit(0);  // abandon the session
  auto r = client.close();
  std::printf("closed %d\n", static_cast<int>(r.error()));
  std::fflush(stdout);
  std::_Exit(0);
}
