#include "corral/client/blocking.h"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "corral/client/client.h"

namespace corral::client {

/// The io_context, its thread, and the client on it.
struct BlockingClient::Runtime {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::mutex mu;
  std::condition_variable cv;
  ConnectionState last = ConnectionState::kConnecting;
  std::unique_ptr<Client> client;
  std::thread thread;
};

BlockingClient::BlockingClient(Options options) : rt_(std::make_unique<Runtime>()) {
  auto user = std::move(options.on_state);
  Runtime* rt = rt_.get();
  options.on_state = [rt, user](ConnectionState s) {
    // The user's callback first: wait_connected() returns only after it has seen the state.
    if (user) user(s);
    {
      std::lock_guard<std::mutex> lock(rt->mu);
      rt->last = s;
    }
    rt->cv.notify_all();
  };
  rt_->client = std::make_unique<Client>(rt_->io.get_executor(), std::move(options));
  rt_->client->start();
  rt_->thread = std::thread([rt] { rt->io.run(); });
}

BlockingClient::~BlockingClient() {
  ConnectionState s = state();
  if (s != ConnectionState::kClosed && s != ConnectionState::kLost &&
      s != ConnectionState::kAuthFailed) {
    auto f = rt_->client->close(asio::use_future);
    f.wait_for(std::chrono::seconds(1));
  }
  rt_->client.reset();
  rt_->work.reset();
  rt_->io.stop();
  rt_->thread.join();
}

bool BlockingClient::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(rt_->mu);
  auto up = [&] {
    return rt_->last == ConnectionState::kConnected || rt_->last == ConnectionState::kReconnected ||
           rt_->last == ConnectionState::kReadOnly || rt_->last == ConnectionState::kLost ||
           rt_->last == ConnectionState::kClosed || rt_->last == ConnectionState::kAuthFailed;
  };
  rt_->cv.wait_for(lock, timeout, up);
  return rt_->last == ConnectionState::kConnected || rt_->last == ConnectionState::kReconnected ||
         rt_->last == ConnectionState::kReadOnly;
}

Client& BlockingClient::async() { return *rt_->client; }
ConnectionState BlockingClient::state() const { return rt_->client->state(); }

Result<CreateResult> BlockingClient::create(const std::string& path, const std::string& data,
                                            CreateMode mode, AclList acl, int64_t ttl_ms) {
  return rt_->client
      ->create(path, data, CreateOptions{mode, std::move(acl), ttl_ms}, asio::use_future)
      .get();
}
Result<CreateResult> BlockingClient::create_protected(const std::string& path,
                                                      const std::string& data, CreateMode mode,
                                                      AclList acl) {
  return rt_->client
      ->create_protected(path, data, CreateOptions{mode, std::move(acl), -1}, asio::use_future)
      .get();
}
Result<void> BlockingClient::remove(const std::string& path, int32_t version) {
  return rt_->client->remove(path, version, asio::use_future).get();
}
Result<Stat> BlockingClient::exists(const std::string& path, Watcher watcher) {
  return rt_->client->exists(path, std::move(watcher), asio::use_future).get();
}
Result<DataResult> BlockingClient::get(const std::string& path, Watcher watcher) {
  return rt_->client->get(path, std::move(watcher), asio::use_future).get();
}
Result<Stat> BlockingClient::set(const std::string& path, const std::string& data,
                                 int32_t version) {
  return rt_->client->set(path, data, version, asio::use_future).get();
}
Result<ChildrenResult> BlockingClient::children(const std::string& path, Watcher watcher) {
  return rt_->client->children(path, std::move(watcher), asio::use_future).get();
}
Result<int32_t> BlockingClient::descendant_count(const std::string& path) {
  return rt_->client->descendant_count(path, asio::use_future).get();
}
Result<AclResult> BlockingClient::get_acl(const std::string& path) {
  return rt_->client->get_acl(path, asio::use_future).get();
}
Result<Stat> BlockingClient::set_acl(const std::string& path, AclList acl, int32_t version) {
  return rt_->client->set_acl(path, std::move(acl), version, asio::use_future).get();
}
Result<void> BlockingClient::sync(const std::string& path) {
  return rt_->client->sync(path, asio::use_future).get();
}
Result<std::vector<OpResult>> BlockingClient::multi(Multi ops) {
  return rt_->client->multi(std::move(ops), asio::use_future).get();
}
Result<void> BlockingClient::add_watch(const std::string& path, AddWatchMode mode,
                                       Watcher watcher) {
  return rt_->client->add_watch(path, mode, std::move(watcher), asio::use_future).get();
}
Result<void> BlockingClient::remove_watches(const std::string& path, WatcherType type) {
  return rt_->client->remove_watches(path, type, asio::use_future).get();
}
Result<std::vector<std::string>> BlockingClient::ephemerals(const std::string& prefix) {
  return rt_->client->ephemerals(prefix, asio::use_future).get();
}
Result<std::vector<Identity>> BlockingClient::who_am_i() {
  return rt_->client->who_am_i(asio::use_future).get();
}
Result<DataResult> BlockingClient::reconfig(ReconfigSpec spec) {
  return rt_->client->reconfig(std::move(spec), asio::use_future).get();
}
Result<DataResult> BlockingClient::get_config(Watcher watcher) {
  return rt_->client->get_config(std::move(watcher), asio::use_future).get();
}
Result<void> BlockingClient::add_auth(const std::string& scheme, const std::string& credentials) {
  return rt_->client->add_auth(scheme, credentials, asio::use_future).get();
}
Result<void> BlockingClient::close() { return rt_->client->close(asio::use_future).get(); }

}  // namespace corral::client
