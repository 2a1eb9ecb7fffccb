// group [HOSTS]: host-a joins a group and watches it; host-b joins and leaves again, and
// host-a's listener hears of both. Style: asio::use_future, and the watch's callback.
#include <corral/recipes/group_member.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using asio::use_future;
using corral::client::Client;
using corral::client::error_text;
using corral::recipes::GroupChange;
using corral::recipes::GroupMember;

int run(Client& client) {
  const std::string path = "/examples/group-" + std::to_string(getpid());
  // What the listener fills in. It owns it: a call may still be under way while `a` goes.
  struct Heard {
    std::promise<void> two, one;
    bool saw_two = false, saw_one = false;  // the listener runs one call at a time
  };
  auto heard = std::make_shared<Heard>();
  auto two_members = heard->two.get_future(), one_member = heard->one.get_future();
  GroupMember a(client, path, "host-a:8080", R"({"zone":"a"})");
  GroupMember b(client, path, "host-b:8080", R"({"zone":"b"})");
  auto joined = a.join(use_future).get();
  if (!joined) {
    std::fprintf(stderr, "join %s: %s\n", path.c_str(), error_text(joined.error()).c_str());
    return 1;
  }
  a.watch([heard](const GroupChange& change) {  // the members now, then every change
    for (const auto& m : change.joined)
      std::printf("joined: %s %s\n", m.id.c_str(), m.data.c_str());
    for (const auto& id : change.departed) std::printf("departed: %s\n", id.c_str());
    if (change.members.size() == 2 && !std::exchange(heard->saw_two, true)) heard->two.set_value();
    if (heard->saw_two && change.members.size() == 1 && !std::exchange(heard->saw_one, true))
      heard->one.set_value();
  });
  b.join(use_future).get();
  bool heard_join = two_members.wait_for(5s) == std::future_status::ready;
  auto members = GroupMember::members(client, path, use_future).get();  // without joining
  std::printf("members: %zu\n", members->size());
  b.leave(use_future).get();
  bool heard_leave = one_member.wait_for(5s) == std::future_status::ready;
  a.leave(use_future).get();
  client.remove(path, -1, use_future).get();         // a container: gone now, not later
  client.remove("/examples", -1, use_future).get();  // ZNOTEMPTY while others use it
  return heard_join && heard_leave && members->size() == 2 ? 0 : 1;
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
