// libFuzzer target: arbitrary bytes through ServerCore, framed as the client
// port frames them, on two in-memory connections while the clock advances and
// the txn log takes its time to make writes durable.
//
// An input is a sequence of steps, each
//
//   control:uint8  length:int32 (big-endian)  payload[length]
//
// control bit 0 picks connection A or B. Bits 1-3, when not 0, advance the
// clock by kClockSteps[i] ms and tick() the core before the frame; the 1 ms step
// also makes the oldest pending log append durable. Bit 7 makes every pending
// append durable first. Bit 4 drops the connection first (its socket closed), so
// the frame starts a new one. Bit 5 makes a handshake reattach to a known session,
// whose id and password (random) are patched into the ConnectRequest: with bit 4,
// this connection's previous session (a client reconnecting); without, the other
// connection's (a session moving). Bit 6 runs a four-letter word (picked by the
// payload's first byte) instead of handing the payload to the core.
//
// As on the client port, a length outside 0..jute.maxbuffer ends the input (the
// server closes the connection), and so does a truncated frame. The first frame
// of each connection is its handshake; a wire::DecodeError closes the connection.
// After every step the tree's invariants are checked; at the end every pending
// append becomes durable and everything is checked again. A broken invariant
// aborts. tests/fuzz/make_corpus.py writes the seed corpus in this format.
#include <spdlog/spdlog.h>

#include <array>
#include <asio/io_context.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/server/config.h"
#include "ensemble/server/four_letter_words.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/txn_log.h"
#include "ensemble/tree/acl.h"
#include "wire/jute.h"
#include "wire/path.h"
#include "wire/records.h"

namespace {

using namespace corral;

/// Where the clock starts: a fixed wall-clock time, so session ids repeat across runs.
constexpr int64_t kStartMs = 1'700'000'000'000;
/// How far control bits 1-3 move the clock; the larger steps expire sessions
/// (timeouts are 4 s to 40 s with tickTime=2000) and TTL nodes.
constexpr std::array<int64_t, 8> kClockSteps = {0, 1, 50, 500, 2'000, 5'000, 20'000, 60'000};
/// Four-letter words whose answers depend on the core's state.
constexpr std::array<std::string_view, 8> kWords = {"ruok", "srvr", "stat", "mntr",
                                                    "cons", "wchs", "crst", "srst"};

/// Reports a broken invariant and aborts, so libFuzzer records the input.
[[noreturn]] void broken(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "frame_fuzzer: broken invariant: %s %.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// Aborts with `what` unless `ok`.
void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) broken(what, detail);
}

/// A frame's big-endian length prefix.
int32_t read_be32(const uint8_t* p) {
  return static_cast<int32_t>(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
                              uint32_t(p[3]));
}

/// An in-memory connection: checks that every frame the core sends decodes,
/// and keeps the session password from the handshake answer.
class MemoryLink : public server::ClientLink {
 public:
  void send(std::string frame) override {
    try {
      wire::JuteReader r(frame);
      int32_t len = r.int32();
      check(len >= 0 && static_cast<size_t>(len) == r.remaining(), "frame length prefix is wrong");
      if (!answered_handshake) {
        auto rsp = wire::ConnectResponse::read(r);
        answered_handshake = true;
        passwd = rsp.passwd;
      } else {
        wire::ReplyHeader::read(r);
      }
    } catch (const wire::DecodeError& e) {
      broken("the server sent a frame that does not decode:", e.what());
    }
  }
  void close() override { closed = true; }

  /// The core asked to close this connection.
  bool closed = false;
  /// Frames handed to the core so far; the first is the handshake.
  size_t frames_fed = 0;
  /// The ConnectResponse was sent; later frames start with a ReplyHeader.
  bool answered_handshake = false;
  /// The session password from the ConnectResponse.
  std::string passwd;
};

/// A session a later handshake may reattach to.
struct KnownSession {
  int64_t id = 0;
  std::string passwd;
};

/// A txn log whose appends become durable only when the harness says so, as if
/// every fsync took a while: writes stay pending across frames and ticks.
class DeferredLog : public server::TxnLog {
 public:
  void append(tree::SharedTxn txn, std::function<void()> durable) override {
    // The log is ZooKeeper's history: no zxid skipped, none repeated.
    check(txn->zxid == last_zxid_ + 1, "a txn was appended out of zxid order");
    last_zxid_ = txn->zxid;
    ++appended_;
    pending_.push_back(std::move(durable));
  }

  /// Makes the oldest `n` pending appends durable, in order (including any
  /// appended meanwhile by the callbacks, up to `n` in all).
  void complete(size_t n) {
    for (; n > 0 && !pending_.empty(); --n) {
      auto durable = std::move(pending_.front());
      pending_.pop_front();
      durable();
    }
  }
  /// Makes everything durable, including appends the callbacks cause.
  void complete_all() { complete(SIZE_MAX); }

  /// True when no append is pending.
  bool idle() const { return pending_.empty(); }
  /// Appends so far.
  uint64_t appended() const { return appended_; }

 private:
  std::deque<std::function<void()>> pending_;
  int64_t last_zxid_ = 0;
  uint64_t appended_ = 0;
};

/// Settings that open the most code: TTL nodes, a super digest, every 4lw, quick
/// container checks.
server::ServerConfig fuzz_config() {
  server::ServerConfig c;
  c.tick_ms = 2000;
  c.extended_types_enabled = true;
  c.container_check_interval_ms = 1000;
  c.four_letter_words = {"*"};
  c.super_digest = tree::digest_of("super:secret");
  return c;
}

/// The io_context NetworkServer needs for the four-letter words; never run.
asio::io_context& io() {
  static asio::io_context context;
  return context;
}

/// One server core with two client slots, driven step by step.
class Harness {
 public:
  Harness() : core_(fuzz_config(), kStartMs), net_(io(), core_) { core_.set_log(&log_); }

  /// Runs one step (see the top of this file).
  void step(uint8_t control, std::string_view payload) {
    const int s = control & 1;
    if (control & 0x80) log_.complete_all();
    if (int advance = (control >> 1) & 7) {
      if (advance == 1) log_.complete(1);
      now_ += kClockSteps[advance];
      core_.tick(now_);
    }
    settle();
    const bool reconnect = control & 0x10;
    if (reconnect) drop(s);
    if (control & 0x40) {
      size_t pick = payload.empty() ? 0 : static_cast<uint8_t>(payload[0]) % kWords.size();
      check(!server::run_four_letter_word(kWords[pick], net_).empty(), "empty 4lw answer");
      return;
    }
    MemoryLink& link = connect(s);
    std::string patched;
    if (link.frames_fed++ == 0 && (control & 0x20)) {
      patched = reattach(payload, last_session_[reconnect ? s : 1 - s]);
      payload = patched;
    }
    const uint64_t appended_before = log_.appended();
    const size_t nodes_before = core_.tree().node_count();
    try {
      core_.on_frame(link, payload, now_);
    } catch (const wire::DecodeError&) {
      // The connection closes; a request that did not decode changed nothing.
      check(log_.appended() == appended_before, "a frame that did not decode was logged");
      check(core_.tree().node_count() == nodes_before,
            "a frame that did not decode changed the tree");
      link.closed = true;
    }
    settle();
  }

  /// Makes every pending write durable, as when the clients wait long enough.
  void finish() {
    log_.complete_all();
    settle();
  }

  /// Checks what must hold between steps.
  void check_invariants() const {
    check_tree();
    check_links();
  }

 private:
  MemoryLink& connect(int s) {
    if (slot_[s]) return *slot_[s];
    auto link = std::make_unique<MemoryLink>();
    link->id = next_link_id_++;
    link->address = s == 0 ? "10.0.0.1" : "10.0.0.2";
    link->endpoint = link->address + ":" + std::to_string(40000 + link->id);
    core_.attach(*link, now_);
    slot_[s] = link.get();
    links_.push_back(std::move(link));
    return *slot_[s];
  }

  // What NetworkServer::connection_closed does when the socket goes.
  void drop(int s) {
    if (!slot_[s]) return;
    core_.detach(*slot_[s]);
    slot_[s] = nullptr;
  }

  // Connections the core closed are gone once their output is written; the
  // others' sessions are remembered for later reattaching.
  void settle() {
    for (int s = 0; s < 2; ++s) {
      if (slot_[s] && slot_[s]->closed) drop(s);
      if (slot_[s] && slot_[s]->session_id != 0)
        last_session_[s] = {slot_[s]->session_id, slot_[s]->passwd};
    }
  }

  // The ConnectRequest in `payload` with `target`'s id and password; the
  // payload unchanged when it does not decode (the core then rejects it).
  static std::string reattach(std::string_view payload, const KnownSession& target) {
    wire::ConnectRequest req;
    try {
      wire::JuteReader r(payload);
      req = wire::ConnectRequest::read(r);
    } catch (const wire::DecodeError&) {
      return std::string(payload);
    }
    req.session_id = target.id;
    req.passwd = target.passwd;
    std::string out;
    wire::JuteWriter w(out);
    req.write(w);
    return out;
  }

  void check_tree() const {
    const tree::DataTree& t = core_.tree();
    const auto& sessions = core_.sessions().sessions();
    size_t reached = 0, containers = 0, ttls = 0;
    int64_t bytes = 0;
    std::map<int64_t, size_t> ephemerals;
    std::vector<std::string> stack{"/"};
    while (!stack.empty()) {
      std::string path = std::move(stack.back());
      stack.pop_back();
      const tree::Node* n = t.find(path);
      check(n != nullptr, "a node lists a child that does not exist:", path);
      check(path == "/" || wire::validate_path(path).empty(), "a node has an invalid path:", path);
      check(static_cast<bool>(n->acl), "a node has no ACL:", path);
      check(n->czxid <= n->mzxid && n->czxid <= n->pzxid,
            "a node changed before its creation:", path);
      check(n->mzxid <= t.last_zxid() && n->pzxid <= t.last_zxid(),
            "a node is from the future:", path);
      ++reached;
      bytes += static_cast<int64_t>(n->data.size());
      switch (tree::node_kind(n->ephemeral_owner)) {
        case tree::NodeKind::kEphemeral:
          ++ephemerals[n->ephemeral_owner];
          check(n->children.empty(), "an ephemeral node has children:", path);
          check(sessions.count(n->ephemeral_owner) == 1,
                "an ephemeral's session is unknown:", path);
          break;
        case tree::NodeKind::kContainer:
          ++containers;
          check(t.containers().count(path) == 1, "a container is not indexed:", path);
          break;
        case tree::NodeKind::kTtl:
          ++ttls;
          check(t.ttl_nodes().count(path) == 1, "a TTL node is not indexed:", path);
          break;
        case tree::NodeKind::kPersistent:
          break;
      }
      for (const auto& name : n->children) stack.push_back(wire::child_path(path, name));
    }
    // Every node is reachable from "/", so every node's parent exists and lists it.
    check(reached == t.node_count(), "a node is not reachable from /");
    check(t.paths().size() == t.node_count(), "paths() disagrees with node_count()");
    check(bytes == t.data_bytes(), "data_bytes() disagrees with the nodes' data");
    check(containers == t.containers().size(), "the container index lists a missing node");
    check(ttls == t.ttl_nodes().size(), "the TTL index lists a missing node");
    check(ephemerals == t.ephemeral_counts(), "the ephemeral index disagrees with the nodes");
    check(t.last_zxid() <= core_.last_zxid(), "the tree is ahead of the server's zxid");
  }

  void check_links() const {
    const auto& known = core_.links();
    size_t live = 0;
    for (const MemoryLink* link : slot_) {
      if (!link) continue;
      ++live;
      auto it = known.find(link->id);
      check(it != known.end() && it->second == link, "an open connection is not attached");
      // While a closeSession is on its way to the log, the session is closing and its
      // connection still open; only a quiet log settles that.
      if (link->session_id == 0 || !log_.idle()) continue;
      const auto& sessions = core_.sessions().sessions();
      auto s = sessions.find(link->session_id);
      check(s != sessions.end() && !s->second.closing,
            "an open connection's session is gone or closing");
    }
    check(known.size() == live, "the core holds a connection that closed");
    for (const auto& [watcher, paths] : core_.watches().by_watcher())
      check(known.count(watcher) == 1, "a closed connection still has watches");
  }

  DeferredLog log_;
  server::ServerCore core_;
  server::NetworkServer net_;
  // Every link stays allocated until the harness goes, so a pointer the core
  // failed to forget shows up as a check failure rather than a use after free.
  std::deque<std::unique_ptr<MemoryLink>> links_;
  std::array<MemoryLink*, 2> slot_ = {nullptr, nullptr};
  std::array<KnownSession, 2> last_session_;
  uint64_t next_link_id_ = 1;
  int64_t now_ = kStartMs;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  const int32_t max = fuzz_config().jute_max_buffer;
  size_t pos = 0;
  while (size - pos >= 5) {
    const uint8_t control = data[pos];
    const int32_t len = read_be32(data + pos + 1);
    if (len < 0 || len > max) break;
    if (size - pos - 5 < static_cast<size_t>(len)) break;
    h.step(control, std::string_view(reinterpret_cast<const char*>(data) + pos + 5, len));
    h.check_invariants();
    pos += 5 + static_cast<size_t>(len);
  }
  h.finish();
  h.check_invariants();
  return 0;
}
