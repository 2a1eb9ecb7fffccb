// Corral's asynchronous ZooKeeper client. Works against Corral and against Apache
// ZooKeeper 3.8 alike (it speaks ZooKeeper's wire protocol).
//
// Every operation takes an Asio completion token: a callback `void(Result<T>)`,
// `asio::use_awaitable` (`Result<DataResult> r = co_await c.get("/x", nullptr,
// asio::use_awaitable);`), or `asio::use_future`. Callbacks without an executor of their
// own run on the client's event strand, in order with watch events and state changes and
// never concurrently with each other. One that throws lets the exception out of the
// io_context's run() in the thread running it (Asio's rule for handlers); the client is not
// hurt by it (its connection carries on, later answers and events still come, every state
// listener still hears the change) and run() may be called again.
//
// Requests are pipelined on one connection and complete in order. When the connection is
// lost, requests in flight fail with ZCONNECTIONLOSS (they are never silently retried: a
// write may or may not have happened), the client reconnects to another server with its
// session within the session timeout, and re-registers its watches with the last zxid it
// saw, so a change made meanwhile fires them once. See also retry.h.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corral/client/multi.h"
#include "corral/client/result.h"
#include "corral/client/types.h"

namespace corral::client {

class ClientImpl;

/// How create makes a node.
struct CreateOptions {
  // Constructors rather than an aggregate: g++ 12 destroys an aggregate temporary with
  // default member initializers twice inside a co_await expression (GCC bug 100611).
  CreateOptions() {}
  CreateOptions(CreateMode m, AclList a = open_acl_unsafe(), int64_t ttl = -1)  // NOLINT
      : mode(m), acl(std::move(a)), ttl_ms(ttl) {}

  CreateMode mode = CreateMode::kPersistent;
  AclList acl = open_acl_unsafe();
  /// For the TTL modes (only): milliseconds without changes or children before the node
  /// goes. A TTL with another mode is refused with ZBADARGUMENTS.
  int64_t ttl_ms = -1;
};

/// Keeps a state listener (Client::subscribe_state) registered until it is destroyed or
/// reset; safe to destroy after the Client itself.
class StateSubscription {
 public:
  StateSubscription() = default;
  ~StateSubscription() { reset(); }
  StateSubscription(StateSubscription&& other) noexcept;
  StateSubscription& operator=(StateSubscription&& other) noexcept;
  StateSubscription(const StateSubscription&) = delete;
  StateSubscription& operator=(const StateSubscription&) = delete;
  /// Stops calling the listener; a change already posted may still reach it.
  void reset();

 private:
  friend class Client;
  std::weak_ptr<ClientImpl> impl_;
  uint64_t id_ = 0;
};

/// One client session, spread over connections to the ensemble's servers.
class Client {
 public:
  /// A client running on `executor` (an io_context's, possibly multi-threaded).
  Client(asio::any_io_executor executor, Options options);
  /// Closes the session if still open: closeSession is sent and the connection dropped
  /// once answered (or after a second), without waiting here. Its ephemerals go at once.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts connecting. Requests made before the session is established wait for it.
  void start();

  /// The connection's state now.
  ConnectionState state() const;
  /// The session id (0 before the first session).
  int64_t session_id() const;
  /// The session timeout the server granted (0 before the first session).
  std::chrono::milliseconds session_timeout() const;
  /// "host:port" of the server the session is connected to ("[::1]:2181" for an IPv6
  /// address), or empty.
  std::string server() const;
  /// The executor the client was made with (recipes run their timers on it).
  asio::any_io_executor executor() const;

  /// Calls `listener` with every later state change, on the event strand, in order with
  /// watch events and Options::on_state (recipes use it to learn that a lock or a leadership
  /// is no longer safe), until the returned subscription is destroyed or reset.
  StateSubscription subscribe_state(std::function<void(ConnectionState)> listener);

  /// create2: the node's actual path and Stat.
  template <typename Token>
  auto create(std::string path, std::string data, CreateOptions options, Token&& token) {
    return initiate<CreateResult>(token, [this, path = std::move(path), data = std::move(data),
                                          options = std::move(options)](auto done) mutable {
      create_impl(std::move(path), std::move(data), std::move(options), std::move(done));
    });
  }
  /// create2 that survives a connection loss without creating twice (Curator's protected
  /// mode): the last path component gets a unique prefix `_c_<16 hex>-`; if the create fails
  /// with ZCONNECTIONLOSS, the client looks for a child of the parent with that prefix once
  /// reconnected and answers with it, or creates again when there is none. For sequential
  /// and ephemeral nodes, whose creation cannot simply be retried.
  template <typename Token>
  auto create_protected(std::string path, std::string data, CreateOptions options, Token&& token) {
    return initiate<CreateResult>(token, [this, path = std::move(path), data = std::move(data),
                                          options = std::move(options)](auto done) mutable {
      create_protected_impl(std::move(path), std::move(data), std::move(options), std::move(done));
    });
  }
  /// delete; version -1 matches any.
  template <typename Token>
  auto remove(std::string path, int32_t version, Token&& token) {
    return initiate<void>(token, [this, path = std::move(path), version](auto done) mutable {
      remove_impl(std::move(path), version, std::move(done));
    });
  }
  /// exists: the Stat, or ZNONODE. `watcher` (may be empty) fires on creation, deletion or
  /// change of the node, whether or not it exists now.
  template <typename Token>
  auto exists(std::string path, Watcher watcher, Token&& token) {
    return initiate<Stat>(
        token, [this, path = std::move(path), watcher = std::move(watcher)](auto done) mutable {
          exists_impl(std::move(path), std::move(watcher), std::move(done));
        });
  }
  /// getData; `watcher` (may be empty) fires on the node's next change or deletion.
  template <typename Token>
  auto get(std::string path, Watcher watcher, Token&& token) {
    return initiate<DataResult>(
        token, [this, path = std::move(path), watcher = std::move(watcher)](auto done) mutable {
          get_impl(std::move(path), std::move(watcher), std::move(done));
        });
  }
  /// setData; version -1 matches any.
  template <typename Token>
  auto set(std::string path, std::string data, int32_t version, Token&& token) {
    return initiate<Stat>(
        token, [this, path = std::move(path), data = std::move(data), version](auto done) mutable {
          set_impl(std::move(path), std::move(data), version, std::move(done));
        });
  }
  /// getChildren2; `watcher` (may be empty) fires when a child is added or removed, or the
  /// node is deleted.
  template <typename Token>
  auto children(std::string path, Watcher watcher, Token&& token) {
    return initiate<ChildrenResult>(
        token, [this, path = std::move(path), watcher = std::move(watcher)](auto done) mutable {
          children_impl(std::move(path), std::move(watcher), std::move(done));
        });
  }
  /// getAllChildrenNumber: all descendants of `path`.
  template <typename Token>
  auto descendant_count(std::string path, Token&& token) {
    return initiate<int32_t>(token, [this, path = std::move(path)](auto done) mutable {
      descendant_count_impl(std::move(path), std::move(done));
    });
  }
  /// getACL.
  template <typename Token>
  auto get_acl(std::string path, Token&& token) {
    return initiate<AclResult>(token, [this, path = std::move(path)](auto done) mutable {
      get_acl_impl(std::move(path), std::move(done));
    });
  }
  /// setACL; version (the aversion) -1 matches any.
  template <typename Token>
  auto set_acl(std::string path, AclList acl, int32_t version, Token&& token) {
    return initiate<Stat>(
        token, [this, path = std::move(path), acl = std::move(acl), version](auto done) mutable {
          set_acl_impl(std::move(path), std::move(acl), version, std::move(done));
        });
  }
  /// sync: once answered, this client's next reads see every write committed before.
  template <typename Token>
  auto sync(std::string path, Token&& token) {
    return initiate<void>(token, [this, path = std::move(path)](auto done) mutable {
      sync_impl(std::move(path), std::move(done));
    });
  }
  /// multi: all ops or none. On failure the error is the failing op's and the value holds
  /// every op's outcome.
  template <typename Token>
  auto multi(Multi ops, Token&& token) {
    return initiate<std::vector<OpResult>>(token, [this, ops = std::move(ops)](auto done) mutable {
      multi_impl(std::move(ops), std::move(done));
    });
  }
  /// addWatch: a persistent (optionally recursive) watch on `path`, until removed.
  template <typename Token>
  auto add_watch(std::string path, AddWatchMode mode, Watcher watcher, Token&& token) {
    return initiate<void>(token, [this, path = std::move(path), mode,
                                  watcher = std::move(watcher)](auto done) mutable {
      add_watch_impl(std::move(path), mode, std::move(watcher), std::move(done));
    });
  }
  /// removeWatches: every watcher of `type` on `path`, here and on the server. Each removed
  /// watcher gets a kDataWatchRemoved / kChildWatchRemoved / kPersistentWatchRemoved event.
  template <typename Token>
  auto remove_watches(std::string path, WatcherType type, Token&& token) {
    return initiate<void>(token, [this, path = std::move(path), type](auto done) mutable {
      remove_watches_impl(std::move(path), type, std::move(done));
    });
  }
  /// getEphemerals: this session's ephemeral nodes under `prefix` ("/" for all).
  template <typename Token>
  auto ephemerals(std::string prefix, Token&& token) {
    return initiate<std::vector<std::string>>(
        token, [this, prefix = std::move(prefix)](auto done) mutable {
          ephemerals_impl(std::move(prefix), std::move(done));
        });
  }
  /// whoAmI: the identities of this session.
  template <typename Token>
  auto who_am_i(Token&& token) {
    return initiate<std::vector<Identity>>(
        token, [this](auto done) mutable { who_am_i_impl(std::move(done)); });
  }
  /// reconfig (ZooKeeperAdmin.reconfigure): changes the ensemble's membership. The answer is
  /// the new config's text (as /zookeeper/config holds it) and the Stat of the change.
  /// ZRECONFIGDISABLED when the servers run without reconfigEnabled, ZNOAUTH unless the
  /// session is super (or the servers skip ACLs), ZBADVERSION for a stale from_config,
  /// ZNEWCONFIGNOQUORUM when too few of the new voters are in sync, ZRECONFIGINPROGRESS while
  /// another change is under way, ZBADARGUMENTS for a spec the server cannot parse.
  template <typename Token>
  auto reconfig(ReconfigSpec spec, Token&& token) {
    return initiate<DataResult>(token, [this, spec = std::move(spec)](auto done) mutable {
      reconfig_impl(std::move(spec), std::move(done));
    });
  }
  /// getConfig: the data and Stat of /zookeeper/config, never under the chroot. `watcher`
  /// (may be empty) fires on the config's next change, with the path "/zookeeper/config".
  template <typename Token>
  auto get_config(Watcher watcher, Token&& token) {
    return initiate<DataResult>(token, [this, watcher = std::move(watcher)](auto done) mutable {
      get_config_impl(std::move(watcher), std::move(done));
    });
  }
  /// addAuth (e.g. "digest", "user:password"); kept and sent again after reconnecting.
  template <typename Token>
  auto add_auth(std::string scheme, std::string credentials, Token&& token) {
    return initiate<void>(token, [this, scheme = std::move(scheme),
                                  credentials = std::move(credentials)](auto done) mutable {
      add_auth_impl(std::move(scheme), std::move(credentials), std::move(done));
    });
  }
  /// closeSession: ephemerals go at once. The state is kClosed when this completes; every
  /// later call, and every call still waiting to be sent, fails with ZCLOSING.
  template <typename Token>
  auto close(Token&& token) {
    return initiate<void>(token, [this](auto done) mutable { close_impl(std::move(done)); });
  }

 private:
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  /// Starts `start(done)` with a `done` that completes `token`'s handler on its executor
  /// (the event strand when it has none).
  template <typename T, typename Token, typename Start>
  auto initiate(Token& token, Start start) {
    return asio::async_initiate<Token, void(Result<T>)>(
        [this](auto handler, Start start) mutable {
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          auto ex = asio::get_associated_executor(*h, event_executor());
          start(Done<T>([h, ex](Result<T> r) mutable {
            // Posted, never run inline: user code does not run inside the client's engine.
            asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
          }));
        },
        token, std::move(start));
  }

  asio::any_io_executor event_executor() const;

  void create_impl(std::string path, std::string data, CreateOptions options,
                   Done<CreateResult> done);
  void create_protected_impl(std::string path, std::string data, CreateOptions options,
                             Done<CreateResult> done);
  void remove_impl(std::string path, int32_t version, Done<void> done);
  void exists_impl(std::string path, Watcher watcher, Done<Stat> done);
  void get_impl(std::string path, Watcher watcher, Done<DataResult> done);
  void set_impl(std::string path, std::string data, int32_t version, Done<Stat> done);
  void children_impl(std::string path, Watcher watcher, Done<ChildrenResult> done);
  void descendant_count_impl(std::string path, Done<int32_t> done);
  void get_acl_impl(std::string path, Done<AclResult> done);
  void set_acl_impl(std::string path, AclList acl, int32_t version, Done<Stat> done);
  void sync_impl(std::string path, Done<void> done);
  void multi_impl(Multi ops, Done<std::vector<OpResult>> done);
  void add_watch_impl(std::string path, AddWatchMode mode, Watcher watcher, Done<void> done);
  void remove_watches_impl(std::string path, WatcherType type, Done<void> done);
  void ephemerals_impl(std::string prefix, Done<std::vector<std::string>> done);
  void who_am_i_impl(Done<std::vector<Identity>> done);
  void reconfig_impl(ReconfigSpec spec, Done<DataResult> done);
  void get_config_impl(Watcher watcher, Done<DataResult> done);
  void add_auth_impl(std::string scheme, std::string credentials, Done<void> done);
  void close_impl(Done<void> done);

  std::shared_ptr<ClientImpl> impl_;
};

}  // namespace corral::client
