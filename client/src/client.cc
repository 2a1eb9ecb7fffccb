// Client: each operation encodes its request, names the watch it leaves, and
// decodes its reply into a Result; ClientImpl does the rest.
#include "corral/client/client.h"

#include <utility>

#include "client_impl.h"

namespace corral::client {

using wire::OpCode;

namespace {

/// Builds a request body with `write`.
template <typename Write>
std::string body_of(Write write) {
  std::string out;
  wire::JuteWriter w(out);
  write(w);
  return out;
}

/// A Call whose successful reply `decode` turns into T; errors go to `done` as they are.
template <typename T, typename Decode>
Call call(OpCode type, std::string body, std::function<void(Result<T>)> done, Decode decode) {
  Call c;
  c.type = type;
  c.body = std::move(body);
  c.on_reply = [done = std::move(done), decode = std::move(decode)](ErrorCode err,
                                                                    wire::JuteReader& r) {
    if (err != ErrorCode::kOk) return done(Result<T>(err));
    try {
      done(decode(r));
    } catch (const wire::DecodeError&) {
      done(Result<T>(ErrorCode::kMarshallingError));
    }
  };
  return c;
}

/// A Call with no value on success.
Call void_call(OpCode type, std::string body, std::function<void(Result<void>)> done) {
  Call c;
  c.type = type;
  c.body = std::move(body);
  c.on_reply = [done = std::move(done)](ErrorCode err, wire::JuteReader&) { done(err); };
  return c;
}

OpCode create_opcode(CreateMode mode) {
  switch (mode) {
    case CreateMode::kContainer:
      return OpCode::kCreateContainer;
    case CreateMode::kPersistentWithTtl:
    case CreateMode::kPersistentSequentialWithTtl:
      return OpCode::kCreateTtl;
    default:
      return OpCode::kCreate2;
  }
}

wire::CreateRequest create_request(std::string path, std::string data, CreateMode mode, AclList acl,
                                   int64_t ttl_ms) {
  wire::CreateRequest req;
  req.path = std::move(path);
  req.data = std::move(data);
  req.acl = std::move(acl);
  req.flags = static_cast<int32_t>(mode);
  req.ttl = ttl_ms;
  return req;
}

bool has_ttl(CreateMode mode) { return create_opcode(mode) == OpCode::kCreateTtl; }

}  // namespace

Client::Client(asio::any_io_executor executor, Options options)
    : impl_(std::make_shared<ClientImpl>(std::move(executor), std::move(options))) {}

Client::~Client() { impl_->shutdown(); }

void Client::start() { impl_->start(); }
ConnectionState Client::state() const { return impl_->state(); }
int64_t Client::session_id() const { return impl_->session_id(); }
std::chrono::milliseconds Client::session_timeout() const { return impl_->session_timeout(); }
std::string Client::server() const { return impl_->server(); }
asio::any_io_executor Client::event_executor() const { return impl_->event_executor(); }
asio::any_io_executor Client::executor() const { return impl_->executor(); }
StateSubscription Client::subscribe_state(std::function<void(ConnectionState)> listener) {
  StateSubscription sub;
  sub.impl_ = impl_;
  sub.id_ = impl_->add_state_listener(std::move(listener));
  return sub;
}

StateSubscription::StateSubscription(StateSubscription&& other) noexcept
    : impl_(std::move(other.impl_)), id_(std::exchange(other.id_, 0)) {}

StateSubscription& StateSubscription::operator=(StateSubscription&& other) noexcept {
  if (this != &other) {
    reset();
    impl_ = std::move(other.impl_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void StateSubscription::reset() {
  if (auto impl = impl_.lock(); impl && id_) impl->remove_state_listener(id_);
  impl_.reset();
  id_ = 0;
}

void Client::create_impl(std::string path, std::string data, CreateOptions options,
                         Done<CreateResult> done) {
  // As ZooKeeper's Java client: a TTL only goes with a TTL mode.
  if (options.ttl_ms != -1 && !has_ttl(options.mode)) return done(ErrorCode::kBadArguments);
  const std::string& root = impl_->chroot();
  OpCode type = create_opcode(options.mode);
  std::string body = body_of([&](wire::JuteWriter& w) {
    create_request(with_chroot(root, path), std::move(data), options.mode, std::move(options.acl),
                   options.ttl_ms)
        .write(w, has_ttl(options.mode));
  });
  impl_->submit(
      call<CreateResult>(type, std::move(body), std::move(done), [root](wire::JuteReader& r) {
        CreateResult out;
        out.path = without_chroot(root, r.string());
        out.stat = wire::Stat::read(r);
        return out;
      }));
}

void Client::remove_impl(std::string path, int32_t version, Done<void> done) {
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathVersionRequest{with_chroot(impl_->chroot(), path), version}.write(w);
  });
  impl_->submit(void_call(OpCode::kDelete, std::move(body), std::move(done)));
}

void Client::exists_impl(std::string path, Watcher watcher, Done<Stat> done) {
  std::string full = with_chroot(impl_->chroot(), path);
  bool watch = static_cast<bool>(watcher);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathWatchRequest{full, watch}.write(w);
  });
  Call c = call<Stat>(OpCode::kExists, std::move(body), std::move(done),
                      [](wire::JuteReader& r) { return wire::Stat::read(r); });
  if (watch) c.watch = {WatchKind::kExists, full, std::move(watcher)};
  impl_->submit(std::move(c));
}

void Client::get_impl(std::string path, Watcher watcher, Done<DataResult> done) {
  std::string full = with_chroot(impl_->chroot(), path);
  bool watch = static_cast<bool>(watcher);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathWatchRequest{full, watch}.write(w);
  });
  Call c =
      call<DataResult>(OpCode::kGetData, std::move(body), std::move(done), [](wire::JuteReader& r) {
        DataResult out;
        out.data = r.buffer();
        out.stat = wire::Stat::read(r);
        return out;
      });
  if (watch) c.watch = {WatchKind::kData, full, std::move(watcher)};
  impl_->submit(std::move(c));
}

void Client::set_impl(std::string path, std::string data, int32_t version, Done<Stat> done) {
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::SetDataRequest req;
    req.path = with_chroot(impl_->chroot(), path);
    req.data = std::move(data);
    req.version = version;
    req.write(w);
  });
  impl_->submit(call<Stat>(OpCode::kSetData, std::move(body), std::move(done),
                           [](wire::JuteReader& r) { return wire::Stat::read(r); }));
}

void Client::children_impl(std::string path, Watcher watcher, Done<ChildrenResult> done) {
  std::string full = with_chroot(impl_->chroot(), path);
  bool watch = static_cast<bool>(watcher);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathWatchRequest{full, watch}.write(w);
  });
  Call c = call<ChildrenResult>(OpCode::kGetChildren2, std::move(body), std::move(done),
                                [](wire::JuteReader& r) {
                                  ChildrenResult out;
                                  out.children = wire::read_strings(r);
                                  out.stat = wire::Stat::read(r);
                                  return out;
                                });
  if (watch) c.watch = {WatchKind::kChild, full, std::move(watcher)};
  impl_->submit(std::move(c));
}

void Client::descendant_count_impl(std::string path, Done<int32_t> done) {
  std::string body = body_of(
      [&](wire::JuteWriter& w) { wire::PathRequest{with_chroot(impl_->chroot(), path)}.write(w); });
  impl_->submit(call<int32_t>(OpCode::kGetAllChildrenNumber, std::move(body), std::move(done),
                              [](wire::JuteReader& r) { return r.int32(); }));
}

void Client::get_acl_impl(std::string path, Done<AclResult> done) {
  std::string body = body_of(
      [&](wire::JuteWriter& w) { wire::PathRequest{with_chroot(impl_->chroot(), path)}.write(w); });
  impl_->submit(
      call<AclResult>(OpCode::kGetAcl, std::move(body), std::move(done), [](wire::JuteReader& r) {
        AclResult out;
        out.acl = wire::read_acls(r);
        out.stat = wire::Stat::read(r);
        return out;
      }));
}

void Client::set_acl_impl(std::string path, AclList acl, int32_t version, Done<Stat> done) {
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::SetAclRequest{with_chroot(impl_->chroot(), path), std::move(acl), version}.write(w);
  });
  impl_->submit(call<Stat>(OpCode::kSetAcl, std::move(body), std::move(done),
                           [](wire::JuteReader& r) { return wire::Stat::read(r); }));
}

void Client::sync_impl(std::string path, Done<void> done) {
  std::string body = body_of(
      [&](wire::JuteWriter& w) { wire::PathRequest{with_chroot(impl_->chroot(), path)}.write(w); });
  impl_->submit(void_call(OpCode::kSync, std::move(body), std::move(done)));
}

void Client::multi_impl(Multi ops, Done<std::vector<OpResult>> done) {
  for (const MultiOp& op : ops.ops())
    if (op.kind == MultiOp::Kind::kCreate && op.ttl_ms != -1 && !has_ttl(op.mode))
      return done(ErrorCode::kBadArguments);
  const std::string& root = impl_->chroot();
  std::string body = body_of([&](wire::JuteWriter& w) {
    for (const MultiOp& op : ops.ops()) {
      std::string path = with_chroot(root, op.path);
      switch (op.kind) {
        case MultiOp::Kind::kCreate: {
          OpCode type = create_opcode(op.mode);
          wire::MultiHeader{static_cast<int32_t>(type), false, -1}.write(w);
          create_request(path, op.data, op.mode, op.acl, op.ttl_ms).write(w, has_ttl(op.mode));
          break;
        }
        case MultiOp::Kind::kDelete:
          wire::MultiHeader{static_cast<int32_t>(OpCode::kDelete), false, -1}.write(w);
          wire::PathVersionRequest{path, op.version}.write(w);
          break;
        case MultiOp::Kind::kSetData: {
          wire::MultiHeader{static_cast<int32_t>(OpCode::kSetData), false, -1}.write(w);
          wire::SetDataRequest req;
          req.path = path;
          req.data = op.data;
          req.version = op.version;
          req.write(w);
          break;
        }
        case MultiOp::Kind::kCheck:
          wire::MultiHeader{static_cast<int32_t>(OpCode::kCheck), false, -1}.write(w);
          wire::PathVersionRequest{path, op.version}.write(w);
          break;
      }
    }
    wire::MultiHeader{-1, true, -1}.write(w);
  });
  Call c;
  c.type = OpCode::kMulti;
  c.body = std::move(body);
  c.on_reply = [done = std::move(done), root](ErrorCode err, wire::JuteReader& r) {
    if (err != ErrorCode::kOk) return done(err);
    std::vector<OpResult> results;
    ErrorCode first = ErrorCode::kOk;
    try {
      for (;;) {
        wire::MultiHeader h = wire::MultiHeader::read(r);
        if (h.done) break;
        OpResult res;
        auto type = static_cast<OpCode>(h.type);
        if (type == OpCode::kError) {
          res.err = static_cast<ErrorCode>(r.int32());
          if (first == ErrorCode::kOk && res.err != ErrorCode::kOk &&
              res.err != ErrorCode::kRuntimeInconsistency)
            first = res.err;
        } else if (type == OpCode::kCreate) {
          res.path = without_chroot(root, r.string());
        } else if (type == OpCode::kCreate2) {
          res.path = without_chroot(root, r.string());
          res.stat = wire::Stat::read(r);
        } else if (type == OpCode::kSetData) {
          res.stat = wire::Stat::read(r);
        }
        results.push_back(std::move(res));
      }
    } catch (const wire::DecodeError&) {
      return done(ErrorCode::kMarshallingError);
    }
    if (first != ErrorCode::kOk) return done(Result<std::vector<OpResult>>(first, results));
    done(std::move(results));
  };
  impl_->submit(std::move(c));
}

void Client::add_watch_impl(std::string path, AddWatchMode mode, Watcher watcher, Done<void> done) {
  std::string full = with_chroot(impl_->chroot(), path);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathIntRequest{full, static_cast<int32_t>(mode)}.write(w);
  });
  Call c = void_call(OpCode::kAddWatch, std::move(body), std::move(done));
  c.watch = {
      mode == AddWatchMode::kPersistent ? WatchKind::kPersistent : WatchKind::kPersistentRecursive,
      full, std::move(watcher)};
  impl_->submit(std::move(c));
}

void Client::remove_watches_impl(std::string path, WatcherType type, Done<void> done) {
  std::string full = with_chroot(impl_->chroot(), path);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathIntRequest{full, static_cast<int32_t>(type)}.write(w);
  });
  Call c;
  c.type = OpCode::kRemoveWatches;
  c.body = std::move(body);
  auto impl = impl_.get();
  c.on_reply = [done = std::move(done), impl, full, type](ErrorCode err, wire::JuteReader&) {
    if (err == ErrorCode::kOk) impl->remove_local_watches(full, type);
    done(err);
  };
  impl_->submit(std::move(c));
}

void Client::ephemerals_impl(std::string prefix, Done<std::vector<std::string>> done) {
  const std::string& root = impl_->chroot();
  std::string body =
      body_of([&](wire::JuteWriter& w) { wire::PathRequest{with_chroot(root, prefix)}.write(w); });
  impl_->submit(call<std::vector<std::string>>(OpCode::kGetEphemerals, std::move(body),
                                               std::move(done), [root](wire::JuteReader& r) {
                                                 auto paths = wire::read_strings(r);
                                                 for (auto& p : paths) p = without_chroot(root, p);
                                                 return paths;
                                               }));
}

void Client::who_am_i_impl(Done<std::vector<Identity>> done) {
  impl_->submit(
      call<std::vector<Identity>>(OpCode::kWhoAmI, "", std::move(done), [](wire::JuteReader& r) {
        std::vector<Identity> out;
        int32_t n = r.vector_count(8);
        for (int32_t i = 0; i < n; ++i) {
          Identity id;
          id.scheme = r.string();
          id.id = r.string();
          out.push_back(std::move(id));
        }
        return out;
      }));
}

namespace {

/// The node every server keeps its ensemble's config in (ZooDefs.CONFIG_NODE).
constexpr const char* kConfigNode = "/zookeeper/config";

/// A ustring that may be null: absent parts of a ReconfigRequest are sent as length -1.
void optional_string(wire::JuteWriter& w, const std::optional<std::string>& s) {
  if (s) {
    w.string(*s);
  } else {
    w.null_buffer();
  }
}

DataResult read_data_result(wire::JuteReader& r) {
  DataResult out;
  out.data = r.buffer();
  out.stat = wire::Stat::read(r);
  return out;
}

}  // namespace

void Client::reconfig_impl(ReconfigSpec spec, Done<DataResult> done) {
  std::string body = body_of([&](wire::JuteWriter& w) {
    optional_string(w, spec.joining);
    optional_string(w, spec.leaving);
    optional_string(w, spec.members);
    w.int64(spec.from_config);
  });
  impl_->submit(
      call<DataResult>(OpCode::kReconfig, std::move(body), std::move(done), read_data_result));
}

void Client::get_config_impl(Watcher watcher, Done<DataResult> done) {
  // Never chrooted, and the watch is kept under the same raw path (ZooKeeper.getConfig).
  bool watch = static_cast<bool>(watcher);
  std::string body = body_of([&](wire::JuteWriter& w) {
    wire::PathWatchRequest{kConfigNode, watch}.write(w);
  });
  Call c = call<DataResult>(OpCode::kGetData, std::move(body), std::move(done), read_data_result);
  if (watch) c.watch = {WatchKind::kData, kConfigNode, std::move(watcher)};
  impl_->submit(std::move(c));
}

void Client::add_auth_impl(std::string scheme, std::string credentials, Done<void> done) {
  impl_->add_auth(std::move(scheme), std::move(credentials),
                  [done = std::move(done)](ErrorCode err) { done(err); });
}

void Client::close_impl(Done<void> done) {
  impl_->close([done = std::move(done)](ErrorCode err) { done(err); });
}

}  // namespace corral::client
