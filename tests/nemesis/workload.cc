#include "tests/nemesis/workload.h"

#include <memory>
#include <random>

#include "tests/nemesis/session.h"

namespace corral::nemesis {

using namespace std::chrono_literals;
using e2e::OpKind;

namespace {

/// Register clients keep their sessions through short faults: 4 s (20 ticks of 200 ms).
constexpr std::chrono::milliseconds kClientSessionTimeout{4000};

Outcome write_outcome(ErrorCode e) {
  if (e == ErrorCode::kOk) return Outcome::kOk;
  return indefinite(e) ? Outcome::kUnknown : Outcome::kFailed;
}

// Pacing between operations: the machine is small and shared.
void pace(std::mt19937_64& rng, const std::atomic<bool>& stop) {
  auto ms = std::chrono::milliseconds(5 + rng() % 20);
  if (!stop) std::this_thread::sleep_for(ms);
}

}  // namespace

std::string register_path(int i) { return std::string(kRegisterRoot) + "/r" + std::to_string(i); }

bool Workload::setup(const std::string& connect_string, Recorder& rec, std::string* error) {
  Session s(connect_string, kClientSessionTimeout, 15s);
  if (!s.connected()) {
    *error = "setup: cannot connect to " + connect_string;
    return false;
  }
  for (const char* root : {kRegisterRoot, kSequenceRoot, "/eph"}) {
    auto r = s.create(root, "", client::CreateMode::kPersistent);
    if (!r || (!r->ok() && r->error() != ErrorCode::kNodeExists)) {
      *error = std::string("setup: create ") + root + " failed";
      return false;
    }
  }
  for (int i = 0; i < kRegisters; ++i) {
    const std::string value = "init-" + std::to_string(i);
    size_t id = rec.history.invoke(0, OpKind::kCreate, register_path(i), value);
    auto r = s.create(register_path(i), value, client::CreateMode::kPersistent);
    if (!r || !r->ok()) {
      *error = "setup: create " + register_path(i) + " failed";
      return false;
    }
    rec.history.complete_write(id, Outcome::kOk, 0, r->value().stat.czxid);
  }
  return true;
}

Workload::Workload(std::string connect_string, Recorder& rec, uint64_t seed, int register_clients)
    : connect_(std::move(connect_string)), rec_(rec) {
  for (int i = 0; i < register_clients; ++i)
    threads_.emplace_back(
        [this, seed, i] { register_loop(seed * 1000 + static_cast<uint64_t>(i)); });
  threads_.emplace_back([this, seed] { sequence_loop(seed * 1000 + 999); });
}

Workload::~Workload() { stop(); }

void Workload::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void Workload::register_loop(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unique_ptr<Session> s;
  int client = 0, n = 0;
  while (!stop_) {
    if (!s || s->broken()) {
      s.reset();
      s = std::make_unique<Session>(connect_, kClientSessionTimeout);
      client = rec_.next_client();
      if (!s->connected()) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
    }
    const std::string path = register_path(static_cast<int>(rng() % kRegisters));
    if (rng() % 2 == 0) {
      // A read after sync: the history's invocation time is the sync's.
      size_t id = rec_.history.invoke(client, OpKind::kGet, path, {}, true);
      auto synced = s->sync(path);
      if (!synced || !synced->ok()) {
        rec_.history.complete_read(id, Outcome::kUnknown, synced ? int(synced->error()) : -7);
        continue;
      }
      auto r = s->get(path);
      if (!r || !r->ok())
        rec_.history.complete_read(id, Outcome::kUnknown, r ? int(r->error()) : -7);
      else
        rec_.history.complete_read(id, Outcome::kOk, 0, true, r->value().data,
                                   r->value().stat.mzxid);
    } else {
      // Compare-and-set: read, then write from the version read.
      size_t id = rec_.history.invoke(client, OpKind::kGet, path);
      auto r = s->get(path);
      if (!r || !r->ok()) {
        rec_.history.complete_read(id, Outcome::kUnknown, r ? int(r->error()) : -7);
        continue;
      }
      rec_.history.complete_read(id, Outcome::kOk, 0, true, r->value().data, r->value().stat.mzxid);
      const int32_t version = r->value().stat.version;
      const std::string value = "c" + std::to_string(client) + "-" + std::to_string(++n);
      size_t wid = rec_.history.invoke(client, OpKind::kSet, path, value);
      auto w = s->set(path, value, version);
      const ErrorCode err = w ? w->error() : ErrorCode::kOperationTimeout;
      CasRecord cas{client, path, version, write_outcome(err), 0, 0};
      if (err == ErrorCode::kOk) cas.zxid = w->value().mzxid, cas.new_version = w->value().version;
      rec_.history.complete_write(wid, cas.outcome, int(err), cas.zxid);
      std::lock_guard lock(rec_.mu);
      rec_.cas.push_back(cas);
    }
    pace(rng, stop_);
  }
}

void Workload::sequence_loop(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unique_ptr<Session> s;
  int client = 0;
  const std::string prefix = std::string(kSequenceRoot) + "/n-";
  while (!stop_) {
    if (!s || s->broken()) {
      s.reset();
      s = std::make_unique<Session>(connect_, kClientSessionTimeout);
      client = rec_.next_client();
      if (!s->connected()) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
    }
    SeqCreate op;
    op.client = client;
    op.invoke = Clock::now();
    auto r = s->create(prefix, "", client::CreateMode::kPersistentSequential);
    op.complete = Clock::now();
    op.outcome = write_outcome(r ? r->error() : ErrorCode::kOperationTimeout);
    if (op.outcome == Outcome::kOk) {
      const std::string& path = r->value().path;
      op.name = path.substr(path.rfind('/') + 1);
      op.czxid = r->value().stat.czxid;
    }
    {
      std::lock_guard lock(rec_.mu);
      rec_.creates.push_back(op);
    }
    pace(rng, stop_);
  }
}

}  // namespace corral::nemesis
