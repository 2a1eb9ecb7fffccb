// The lane workloads: create, set, get, mixed, multi, latency, churn and lock.
#include <asio/post.hpp>
#include <asio/use_future.hpp>

#include "bench/corral_bench/workload.h"
#include "corral/recipes/mutex.h"

namespace corral::bench {

using client::ErrorCode;

namespace {

/// A well-mixed 64-bit hash (splitmix64's finaliser): stateless, so lanes need no RNG.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Lanes of Options::sessions x Options::inflight.
size_t all_lanes(const Options& o) { return static_cast<size_t>(o.sessions) * o.inflight; }

/// Creates a node per operation: dir/create/s<session>/n<lane>-<seq>.
class CreateWorkload : public Workload {
 public:
  explicit CreateWorkload(Context& ctx) : ctx_(ctx), base_(ctx.dir + "/create") {}
  size_t lanes() const override { return all_lanes(ctx_.options); }
  std::optional<std::string> prepare() override {
    auto& c = *ctx_.pool.clients()[0];
    if (auto e = ensure_node(c, base_); e != ErrorCode::kOk) return client::error_text(e);
    for (int s = 0; s < ctx_.options.sessions; ++s) {
      auto e = ensure_node(c, session_dir(s));
      if (e != ErrorCode::kOk) return client::error_text(e);
    }
    return std::nullopt;
  }
  void start(const Lane& lane, OpDone done) override {
    ctx_.pool.clients()[lane.session]->create(
        node(lane.session, lane.index, lane.seq), ctx_.value, client::CreateOptions(),
        [done = std::move(done)](client::Result<client::CreateResult> r) { done(r.error()); });
  }
  ErrorCounts cleanup(const std::vector<uint64_t>& issued) override {
    // The names are known, so no listing (a listing of millions would exceed jute.maxbuffer).
    ErrorCounts errors;
    auto sessions = static_cast<size_t>(ctx_.options.sessions);
    for (size_t lane = 0; lane < issued.size(); ++lane) {
      auto& c = *ctx_.pool.clients()[lane % sessions];
      auto e = pipelined(issued[lane], 1000, [&](size_t seq, OpDone done) {
        c.remove(node(lane % sessions, lane, seq), -1, [done](client::Result<void> r) {
          done(r.error() == ErrorCode::kNoNode ? ErrorCode::kOk : r.error());
        });
      });
      for (auto& [code, n] : e) errors[code] += n;
    }
    for (auto& [code, n] : remove_tree(*ctx_.pool.clients()[0], base_)) errors[code] += n;
    return errors;
  }

 private:
  std::string session_dir(size_t s) const { return base_ + "/s" + std::to_string(s); }
  std::string node(size_t s, size_t lane, uint64_t seq) const {
    return session_dir(s) + "/n" + std::to_string(lane) + "-" + std::to_string(seq);
  }

  Context& ctx_;
  std::string base_;
};

/// set, get, mixed, multi and latency over dir/keys/k<i>, keys picked by a hash of the lane
/// and the operation's number.
class KeysWorkload : public Workload {
 public:
  KeysWorkload(Context& ctx, std::string kind) : ctx_(ctx), kind_(std::move(kind)) {}
  size_t lanes() const override { return kind_ == "latency" ? 1 : all_lanes(ctx_.options); }
  std::optional<std::string> prepare() override {
    auto& c = *ctx_.pool.clients()[0];
    if (auto e = ensure_node(c, ctx_.dir + "/keys"); e != ErrorCode::kOk) {
      return client::error_text(e);
    }
    auto errors = pipelined(ctx_.options.keys, 1000, [&](size_t k, OpDone done) {
      c.create(key(k), ctx_.value, client::CreateOptions(),
               [done](client::Result<client::CreateResult> r) {
                 done(r.error() == ErrorCode::kNodeExists ? ErrorCode::kOk : r.error());
               });
    });
    if (!errors.empty()) return "creating keys: " + client::error_text(errors.begin()->first);
    return std::nullopt;
  }
  void start(const Lane& lane, OpDone done) override {
    uint64_t h = mix((static_cast<uint64_t>(lane.index) << 32) ^ lane.seq);
    auto& c = *ctx_.pool.clients()[lane.session];
    auto keys = static_cast<uint64_t>(ctx_.options.keys);
    auto pass = [done = std::move(done)](const auto& r) { done(r.error()); };
    bool read = kind_ == "get" || (kind_ == "mixed" && static_cast<double>(h % 1000000) <
                                                           ctx_.options.read_ratio * 1000000.0);
    if (read) {
      c.get(key(h % keys), nullptr, pass);
    } else if (kind_ == "multi") {
      // Five distinct keys: consecutive ones from a hashed start (keys >= 5 is checked).
      client::Multi m;
      for (uint64_t j = 0; j < 5; ++j) m.set(key((h + j) % keys), ctx_.value);
      c.multi(std::move(m), pass);
    } else {
      c.set(key(h % keys), ctx_.value, -1, pass);
    }
  }
  ErrorCounts cleanup(const std::vector<uint64_t>&) override { return {}; }

 private:
  std::string key(uint64_t k) const { return ctx_.dir + "/keys/k" + std::to_string(k); }

  Context& ctx_;
  std::string kind_;
};

/// Per operation: a new session (pinned like the lane's), an ephemeral node, closeSession.
class ChurnWorkload : public Workload {
 public:
  explicit ChurnWorkload(Context& ctx) : ctx_(ctx), base_(ctx.dir + "/churn") {}
  size_t lanes() const override { return all_lanes(ctx_.options); }
  std::optional<std::string> prepare() override {
    auto e = ensure_node(*ctx_.pool.clients()[0], base_);
    if (e != ErrorCode::kOk) return client::error_text(e);
    return std::nullopt;
  }
  void start(const Lane& lane, OpDone done) override {
    auto c = std::make_shared<client::Client>(ctx_.pool.executor(),
                                              ctx_.pool.client_options(lane.session));
    c->start();
    std::string path = base_ + "/e" + std::to_string(lane.index) + "-" + std::to_string(lane.seq);
    c->create(path, ctx_.value, client::CreateOptions(client::CreateMode::kEphemeral),
              [this, c, done = std::move(done)](client::Result<client::CreateResult> r) mutable {
                close(std::move(c), r.error(), std::move(done));
              });
  }
  ErrorCounts cleanup(const std::vector<uint64_t>&) override {
    return remove_tree(*ctx_.pool.clients()[0], base_);
  }

 private:
  /// Closes the churned session even when the create failed; the first error wins.
  void close(std::shared_ptr<client::Client> c, ErrorCode created, OpDone done) {
    auto* raw = c.get();
    raw->close(
        [this, c = std::move(c), created, done = std::move(done)](client::Result<void> r) mutable {
          // Destroyed off the client's own callback, on the pool's executor.
          asio::post(ctx_.pool.executor(), [c = std::move(c)] {});
          done(created != ErrorCode::kOk ? created : r.error());
        });
  }

  Context& ctx_;
  std::string base_;
};

/// Every session contends for one Mutex (recipes): an operation is acquire then release.
class LockWorkload : public Workload {
 public:
  explicit LockWorkload(Context& ctx) : ctx_(ctx), path_(ctx.dir + "/lock") {}
  // One Mutex object is one holder, so one lane (one acquire in flight) per session.
  size_t lanes() const override { return static_cast<size_t>(ctx_.options.sessions); }
  std::optional<std::string> prepare() override {
    for (size_t s = 0; s < lanes(); ++s) {
      mutexes_.push_back(std::make_unique<recipes::Mutex>(*ctx_.pool.clients()[s], path_,
                                                          "corral-bench-" + std::to_string(s)));
    }
    return std::nullopt;
  }
  void start(const Lane& lane, OpDone done) override {
    auto* m = mutexes_[lane.index].get();
    m->acquire(recipes::kWaitForever,
               [m, done = std::move(done)](client::Result<recipes::Grant> g) mutable {
                 if (!g) return done(g.error());
                 m->release([done = std::move(done)](client::Result<void> r) { done(r.error()); });
               });
  }
  ErrorCounts cleanup(const std::vector<uint64_t>&) override {
    mutexes_.clear();
    return remove_tree(*ctx_.pool.clients()[0], path_);
  }

 private:
  Context& ctx_;
  std::string path_;
  std::vector<std::unique_ptr<recipes::Mutex>> mutexes_;
};

}  // namespace

std::unique_ptr<Workload> make_workload(const std::string& name, Context& ctx) {
  if (name == "create") return std::make_unique<CreateWorkload>(ctx);
  if (name == "churn") return std::make_unique<ChurnWorkload>(ctx);
  if (name == "lock") return std::make_unique<LockWorkload>(ctx);
  return std::make_unique<KeysWorkload>(ctx, name);
}

}  // namespace corral::bench
