#include "client_impl.h"

#include <asio/post.hpp>
#include <exception>
#include <random>

#include "tls.h"

namespace corral::client {

using wire::OpCode;

namespace {

// Special xids of ZooKeeper's protocol.
constexpr int32_t kNotificationXid = -1;
constexpr int32_t kPingXid = -2;
constexpr int32_t kAuthXid = -4;
constexpr int32_t kSetWatchesXid = -8;
// Largest SetWatches2 frame sent when re-registering watches.
constexpr size_t kSetWatchesBatchBytes = 128 * 1024;

std::string frame_of(int32_t xid, OpCode type, const std::string& body) {
  std::string f(4, '\0');
  wire::JuteWriter w(f);
  wire::RequestHeader{xid, static_cast<int32_t>(type)}.write(w);
  f += body;
  w.patch_int32(0, static_cast<int32_t>(f.size() - 4));
  return f;
}

}  // namespace

ClientImpl::ClientImpl(asio::any_io_executor executor, Options options)
    : executor_(executor),
      io_(asio::make_strand(executor)),
      events_(asio::make_strand(executor)),
      options_(std::move(options)),
      connect_(parse_connect_string(options_.connect_string)),
      resolver_(executor_),
      socket_(executor_),
      connect_timer_(executor_),
      ping_timer_(executor_),
      retry_timer_(executor_) {
  // Shuffled so that clients spread over the ensemble. One engine per thread, seeded once:
  // a random_device per client opened the entropy source at every connect of a session churn.
  static thread_local std::minstd_rand spread{std::random_device{}()};
  std::shuffle(connect_.hosts.begin(), connect_.hosts.end(), spread);
  if (options_.tls)
    tls_context_ = std::make_unique<asio::ssl::context>(make_tls_context(*options_.tls));
}

void ClientImpl::start() {
  asio::post(io_, [self = shared_from_this()] { self->connect_next(); });
}

std::string ClientImpl::server() const {
  std::lock_guard<std::mutex> lock(server_mu_);
  return server_;
}

void ClientImpl::set_server(const std::string& s) {
  std::lock_guard<std::mutex> lock(server_mu_);
  server_ = s;
}

void ClientImpl::set_state(ConnectionState s) {
  if (state_.load() == s) return;
  state_ = s;
  if (options_.on_state) post_event([cb = options_.on_state, s] { cb(s); });
  // Looked up when the event runs: a listener removed meanwhile is not called.
  post_event([self = shared_from_this(), s] {
    std::vector<std::function<void(ConnectionState)>> to_call;
    {
      std::lock_guard<std::mutex> lock(self->listeners_mu_);
      for (auto& [id, listener] : self->listeners_) to_call.push_back(listener);
    }
    // One that throws does not keep the others from the change: its exception leaves run()
    // after they were called (the first one's, if several throw).
    std::exception_ptr thrown;
    for (auto& listener : to_call) {
      try {
        listener(s);
      } catch (...) {
        if (!thrown) thrown = std::current_exception();
      }
    }
    if (thrown) std::rethrow_exception(thrown);
  });
}

uint64_t ClientImpl::add_state_listener(std::function<void(ConnectionState)> listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  uint64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ClientImpl::remove_state_listener(uint64_t id) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.erase(id);
}

std::chrono::milliseconds ClientImpl::connect_timeout() const {
  // As ZooKeeper's Java client: the session timeout shared among the hosts, so a pass over
  // all of them fits in one timeout.
  auto per_host = options_.session_timeout / static_cast<int>(connect_.hosts.size());
  return std::max(per_host, std::chrono::milliseconds(500));
}

// ------------------------------------------------------------------ handshake

void ClientImpl::send_handshake() {
  wire::ConnectRequest req;
  req.last_zxid_seen = last_zxid_;
  req.timeout_ms = static_cast<int32_t>(options_.session_timeout.count());
  // A session made by a read-only server is not known to the others (ZooKeeper's rule).
  req.session_id = seen_rw_ ? session_id_.load() : 0;
  req.passwd = seen_rw_ ? passwd_ : std::string(16, '\0');
  req.read_only = options_.can_be_read_only;
  std::string f(4, '\0');
  wire::JuteWriter w(f);
  req.write(w);
  w.patch_int32(0, static_cast<int32_t>(f.size() - 4));
  send_frame(std::move(f));
}

void ClientImpl::on_frame(std::string_view frame) {
  try {
    if (!session_up_) return on_handshake(frame);
    wire::JuteReader r(frame);
    wire::ReplyHeader h = wire::ReplyHeader::read(r);
    if (h.zxid > 0) last_zxid_ = std::max(last_zxid_, h.zxid);
    if (!proven_) {
      // The server answers on this connection: a new pass over the servers may start.
      // (A connection that dies right after its handshake does not reset it, so such
      // failures still back off.)
      proven_ = true;
      tried_in_pass_ = 0;
    }
    switch (h.xid) {
      case kNotificationXid:
        return on_event(r);
      case kPingXid:
      case kSetWatchesXid:
        return;
      case kAuthXid: {
        auto done = std::move(auth_waiting_.front());
        auth_waiting_.pop_front();
        if (done) done(static_cast<ErrorCode>(h.err));
        return;
      }
      default:
        return on_reply(r, h);
    }
  } catch (const wire::DecodeError&) {
    drop_connection("malformed frame from the server");
  }
}

void ClientImpl::on_handshake(std::string_view frame) {
  wire::JuteReader r(frame);
  wire::ConnectResponse rsp = wire::ConnectResponse::read(r);
  connect_timer_.cancel();
  if (rsp.timeout_ms <= 0) {
    // The server does not know this session (any more): it expired.
    return lose_session(ErrorCode::kSessionExpired);
  }
  bool new_session = rsp.session_id != session_id_.load();
  session_id_ = rsp.session_id;
  passwd_ = rsp.passwd;
  negotiated_timeout_ms_ = rsp.timeout_ms;
  if (!rsp.read_only) seen_rw_ = true;
  if (new_session && ever_connected_ && !watches_.empty()) {
    // A read-only session was replaced by a new one: its watches do not carry over.
    watches_.clear();
  }
  session_up_ = true;
  proven_ = false;
  set_server(trying_);
  if (options_.sasl) return start_sasl(rsp.read_only);
  session_ready(rsp.read_only);
}

void ClientImpl::session_ready(bool read_only) {
  // Identities and watches come first, then every request that waited.
  for (const auto& [scheme, cred] : auth_) {
    std::string body;
    wire::JuteWriter w(body);
    wire::AuthPacket{0, scheme, cred}.write(w);
    auth_waiting_.push_back(nullptr);
    send_frame(frame_of(kAuthXid, OpCode::kAuth, body));
  }
  // In frames of at most 128 KiB, as ZooKeeper's Java client (ZOOKEEPER-706): one frame
  // over the server's jute.maxbuffer would close every new connection.
  for (const auto& batch : watches_.to_set_watches(last_zxid_, kSetWatchesBatchBytes)) {
    std::string body;
    wire::JuteWriter w(body);
    batch.write(w, true);
    send_frame(frame_of(kSetWatchesXid, OpCode::kSetWatches2, body));
  }
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& c : waiting) send_call(std::move(c));
  if (read_only)
    set_state(ConnectionState::kReadOnly);
  else
    set_state(ever_connected_ ? ConnectionState::kReconnected : ConnectionState::kConnected);
  ever_connected_ = true;
  schedule_ping(gen_);
}

// ------------------------------------------------------------------ requests

void ClientImpl::submit(Call call) {
  asio::post(io_, [self = shared_from_this(), call = std::move(call)]() mutable {
    ConnectionState s = self->state_.load();
    if (s == ConnectionState::kLost) {
      wire::JuteReader none("");
      return call.on_reply(ErrorCode::kSessionExpired, none);
    }
    if (s == ConnectionState::kClosed) {
      wire::JuteReader none("");
      return call.on_reply(ErrorCode::kClosing, none);
    }
    if (s == ConnectionState::kAuthFailed) {
      wire::JuteReader none("");
      return call.on_reply(ErrorCode::kAuthFailed, none);
    }
    // While closing, calls wait too: they fail with ZCLOSING after the close completes. While
    // a SASL login runs they wait for it.
    if (!self->session_up_ || self->closing_ || self->sasl_)
      return self->waiting_.push_back(std::move(call));
    self->send_call(std::move(call));
  });
}

void ClientImpl::send_call(Call call) {
  int32_t xid = next_xid_++;
  if (next_xid_ <= 0) next_xid_ = 1;
  send_frame(frame_of(xid, call.type, call.body));
  in_flight_.push_back({xid, std::move(call)});
}

void ClientImpl::on_reply(wire::JuteReader& r, const wire::ReplyHeader& h) {
  if (in_flight_.empty() || in_flight_.front().xid != h.xid) {
    // Replies come in request order; anything else means the stream is broken.
    return drop_connection("reply out of order");
  }
  InFlight f = std::move(in_flight_.front());
  in_flight_.pop_front();
  auto err = static_cast<ErrorCode>(h.err);
  if (f.call.type != OpCode::kCloseSession) {
    watches_.register_for_reply(f.call.watch, err);
    return f.call.on_reply(err, r);
  }
  // The session is over before its closer hears so (state() says kClosed), and the calls
  // made after close() complete after it, in order.
  tear_down_closed();
  f.call.on_reply(err, r);
  fail_in_flight(ErrorCode::kClosing);
  fail_waiting(ErrorCode::kClosing);
}

void ClientImpl::stop_connecting() {
  ++gen_;
  asio::error_code ignored;
  socket_.close(ignored);
  tls_.reset();
  connect_timer_.cancel();
  ping_timer_.cancel();
  retry_timer_.cancel();
  session_up_ = false;
  connected_ = false;
  set_server("");
}

void ClientImpl::tear_down_closed() {
  closing_ = true;
  stop_connecting();
  set_state(ConnectionState::kClosed);
}

void ClientImpl::finish_close() {
  tear_down_closed();
  fail_in_flight(ErrorCode::kClosing);
  fail_waiting(ErrorCode::kClosing);
}

void ClientImpl::on_event(wire::JuteReader& r) {
  wire::WatcherEvent ev = wire::WatcherEvent::read(r);
  auto type = static_cast<EventType>(ev.type);
  std::vector<Watcher> ws = watches_.trigger(type, ev.path);
  if (ws.empty()) return;
  WatchEvent out{type, without_chroot(connect_.chroot, std::move(ev.path))};
  // A post each: a watcher that throws does not take the others' calls with it. Most events
  // have one watcher, which is given the event itself.
  if (ws.size() == 1) return post_event([w = std::move(ws[0]), out = std::move(out)] { w(out); });
  for (auto& w : ws) post_event([w = std::move(w), out] { w(out); });
}

void ClientImpl::add_auth(std::string scheme, std::string credentials,
                          std::function<void(ErrorCode)> done) {
  asio::post(io_, [self = shared_from_this(), scheme = std::move(scheme),
                   cred = std::move(credentials), done = std::move(done)]() mutable {
    if (self->state_ == ConnectionState::kLost) return done(ErrorCode::kSessionExpired);
    if (self->state_ == ConnectionState::kAuthFailed) return done(ErrorCode::kAuthFailed);
    if (self->state_ == ConnectionState::kClosed || self->closing_)
      return done(ErrorCode::kClosing);
    self->auth_.emplace_back(scheme, cred);
    if (!self->session_up_) return done(ErrorCode::kOk);  // sent with the handshake's followers
    std::string body;
    wire::JuteWriter w(body);
    wire::AuthPacket{0, scheme, cred}.write(w);
    self->auth_waiting_.push_back(std::move(done));
    self->send_frame(frame_of(kAuthXid, OpCode::kAuth, body));
  });
}

void ClientImpl::remove_local_watches(const std::string& path, WatcherType type) {
  for (auto& [w, event] : watches_.remove(path, type)) {
    WatchEvent out{event, without_chroot(connect_.chroot, path)};
    post_event([w = std::move(w), out] { w(out); });
  }
}

void ClientImpl::close(std::function<void(ErrorCode)> done) {
  asio::post(io_, [self = shared_from_this(), done = std::move(done)]() mutable {
    if (self->state_ == ConnectionState::kClosed || self->state_ == ConnectionState::kLost ||
        self->state_ == ConnectionState::kAuthFailed)
      return done(ErrorCode::kOk);
    if (self->closing_) {
      // Already closing: this one completes (in order) once that close has.
      Call again;
      again.type = OpCode::kCloseSession;
      again.on_reply = [done = std::move(done)](ErrorCode, wire::JuteReader&) {
        done(ErrorCode::kOk);
      };
      return self->waiting_.push_back(std::move(again));
    }
    if (!self->session_up_) {
      // No connection: the session (if any) expires on the servers by itself.
      self->finish_close();
      return done(ErrorCode::kOk);
    }
    self->send_close(std::move(done));
  });
}

void ClientImpl::send_close(std::function<void(ErrorCode)> done) {
  Call c;
  c.type = OpCode::kCloseSession;
  c.on_reply = [done = std::move(done)](ErrorCode err, wire::JuteReader&) {
    // A connection lost before the answer leaves the session to expire by itself.
    done(err == ErrorCode::kClosing ? ErrorCode::kOk : err);
  };
  send_call(std::move(c));
  closing_ = true;  // later calls fail with ZCLOSING; this one is answered
}

void ClientImpl::shutdown() {
  asio::post(io_, [self = shared_from_this()] {
    if (!self->session_up_ || self->closing_) return self->finish_close();
    // Close the session so its ephemerals go now, but do not wait long for the answer.
    self->send_close([](ErrorCode) {});
    self->retry_timer_.expires_after(std::chrono::seconds(1));
    self->retry_timer_.async_wait(self->on_io([self](const asio::error_code& ec) {
      if (!ec && self->state_ != ConnectionState::kClosed) self->finish_close();
    }));
  });
}

// ------------------------------------------------------------------ pings and loss

void ClientImpl::schedule_ping(uint64_t gen) {
  auto timeout = std::chrono::milliseconds(negotiated_timeout_ms_.load());
  auto interval = timeout / 3;
  // Wake for whichever comes first: the next ping due, or the moment the server has been
  // silent for two thirds of the timeout (ZooKeeper's readTimeout): it is presumed gone.
  auto silent_at = last_recv_ + timeout * 2 / 3;
  auto wake = std::min(last_send_ + interval, silent_at);
  ping_timer_.expires_at(std::max(wake, Clock::now() + std::chrono::milliseconds(1)));
  ping_timer_.async_wait(
      on_io([self = shared_from_this(), gen, timeout, interval](const asio::error_code& ec) {
        if (ec || gen != self->gen_ || !self->session_up_) return;
        auto now = Clock::now();
        if (now >= self->last_recv_ + timeout * 2 / 3)
          return self->drop_connection("server silent");
        if (now - self->last_send_ >= interval)
          self->send_frame(frame_of(kPingXid, OpCode::kPing, ""));
        self->schedule_ping(gen);
      }));
}

void ClientImpl::fail_in_flight(ErrorCode err) {
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& f : in_flight) {
    wire::JuteReader none("");
    f.call.on_reply(err, none);
  }
  auto auths = std::move(auth_waiting_);
  auth_waiting_.clear();
  for (auto& done : auths)
    if (done) done(err);
}

void ClientImpl::fail_waiting(ErrorCode err) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& c : waiting) {
    wire::JuteReader none("");
    c.on_reply(err, none);
  }
}

void ClientImpl::drop_connection(const char* why) {
  (void)why;
  ++gen_;
  asio::error_code ignored;
  socket_.close(ignored);
  tls_.reset();
  connect_timer_.cancel();
  ping_timer_.cancel();
  out_.clear();
  writing_ = false;
  connected_ = false;
  bool had_session = session_up_;
  session_up_ = false;
  // Requests in flight may or may not have been applied: their callers must decide.
  set_server("");
  if (closing_) return finish_close();
  fail_in_flight(ErrorCode::kConnectionLoss);
  if (had_session) {
    suspended_since_ = Clock::now();
    set_state(ConnectionState::kSuspended);
  } else if (ever_connected_ && state_ == ConnectionState::kSuspended &&
             Clock::now() - suspended_since_ > session_timeout() * 4 / 3) {
    // No server took the session back for a third longer than its timeout: take it for
    // expired. The third is slack: the ensemble may not have expired it yet (a new leader gives
    // every session a fresh timeout, and an expiry waits for the next check), so a session
    // whose servers come back a little after its timeout is not given up. (ZooKeeper 3.8's
    // client never gives up by itself.)
    return lose_session(ErrorCode::kSessionExpired);
  }
  connect_next();
}

void ClientImpl::lose_session(ErrorCode err) {
  stop_connecting();
  fail_in_flight(err);
  fail_waiting(err);
  watches_.clear();
  set_state(ConnectionState::kLost);
}

}  // namespace corral::client
