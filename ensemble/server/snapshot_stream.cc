#include "ensemble/server/snapshot_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "ensemble/storage/state_image.h"
#include "ensemble/zab/codec.h"

namespace corral::server {
namespace {

using namespace std::chrono_literals;

/// Bytes read from the pipe per relay.
constexpr size_t kChunkBytes = size_t{1} << 20;
/// The pipe is read only while the learner's connection has at most this much queued: the
/// mesh cuts off a member whose queue passes quorum.sendQueueMaxBytes (64 MiB by default).
constexpr size_t kMaxBacklog = size_t{8} << 20;

/// Closes every descriptor but `keep` (and 0-2).
void close_all_but(int keep) {
  if ((keep <= 3 || close_range(3, static_cast<unsigned>(keep - 1), 0) == 0) &&
      close_range(static_cast<unsigned>(keep + 1), ~0u, 0) == 0)
    return;
  // No close_range (Linux before 5.9): one by one.
  const long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < (max > 0 ? max : 65536); ++fd)
    if (fd != keep) close(fd);
}

/// The child: writes the image of the tree it was forked with into `fd`, then exits.
[[noreturn]] void write_image(int fd, const tree::DataTree& tree,
                              std::vector<storage::SessionRow> sessions, pid_t leader) noexcept {
  // It dies with the leader, and of signals as any process does (the leader's handlers
  // would write to the leader's own descriptors).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != leader) _exit(1);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
  // The leader's sockets and files stay the leader's alone: a connection the leader closes
  // must close now, not when this child ends.
  close_all_but(fd);
  // Short of memory, the kernel takes this child (the image is made again) before the leader.
  if (int adj = open("/proc/self/oom_score_adj", O_WRONLY); adj >= 0) {
    (void)!write(adj, "1000", 4);
    close(adj);
  }
  try {
    const std::string bytes =
        storage::encode_image(storage::capture_image(tree, std::move(sessions)));
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(1);
      done += static_cast<size_t>(n);
    }
  } catch (...) {
    _exit(2);  // never back into the leader's code: this is not the leader
  }
  _exit(0);
}

/// waitpid, again after a signal.
pid_t wait_for(pid_t child, int* status, int options) {
  pid_t r;
  do r = waitpid(child, status, options);
  while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

SnapshotStreams::SnapshotStreams(asio::io_context& io, Mesh mesh, std::string database_path,
                                 size_t max_log_diff_bytes)
    : io_(io),
      mesh_(std::move(mesh)),
      database_path_(std::move(database_path)),
      max_log_diff_bytes_(max_log_diff_bytes) {}

SnapshotStreams::~SnapshotStreams() {
  // An encoding job uses the streams: none may run once they are gone. A finished job's
  // handler still queued on the event loop finds its stream ended and does nothing.
  encoder_.stop();
  encoder_.join();
  clear();
  for (pid_t child : killed_) wait_for(child, nullptr, 0);  // SIGKILLed: gone soon
}

std::shared_ptr<const zab::SnapshotData> SnapshotStreams::start(
    const tree::DataTree& tree, std::vector<storage::SessionRow> sessions) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  const pid_t leader = getpid();
  const pid_t child = fork();
  if (child < 0) {
    int error = errno;
    close(fds[0]);
    close(fds[1]);
    throw std::system_error(error, std::generic_category(), "fork");
  }
  if (child == 0) {
    close(fds[0]);
    write_image(fds[1], tree, std::move(sessions), leader);
  }
  close(fds[1]);
  auto s = std::make_shared<Stream>(io_);
  s->child = child;
  s->data = std::make_shared<zab::SnapshotData>(zab::SnapshotData{tree.last_zxid(), {}, true});
  s->pipe.assign(fds[0]);
  s->pipe.non_blocking(true);
  s->buffer.resize(kChunkBytes);
  streams_.push_back(s);
  reap();
  return s->data;
}

void SnapshotStreams::send(int64_t to, const zab::Message& m, std::string body) {
  if (m.type == zab::MessageType::kSync && m.snapshot && m.snapshot->streamed) {
    auto it = std::find_if(streams_.begin(), streams_.end(),
                           [&](const StreamPtr& s) { return s->data == m.snapshot; });
    if (it == streams_.end() || (*it)->learner) {
      // Its stream ended (this server stopped leading in between): a SYNC without its image
      // would only be refused.
      mesh_.give_up(to, "its snapshot's stream ended before the SYNC went out");
      return;
    }
    StreamPtr s = *it;
    // An older stream to the same learner belongs to a sync it has given up on.
    if (StreamPtr old = bound_to(to)) end(old);
    s->learner = to;
    s->held.push_back(std::move(body));
    pump(s);
    return;
  }
  if (StreamPtr s = bound_to(to)) {
    s->held.push_back(std::move(body));
    return;
  }
  mesh_.send(to, std::move(body));
}

bool SnapshotStreams::long_sync(const zab::Message& m) {
  // About a millisecond of encoding: below it, a thread's round trip is not worth it.
  constexpr size_t kLongSyncTxns = 1000;
  return m.type == zab::MessageType::kSync && !m.snapshot &&
         (m.txns.size() >= kLongSyncTxns || m.log_to != 0);
}

void SnapshotStreams::read_logged_txns(zab::Message& sync) {
  if (database_path_.empty()) throw storage::StorageError("no txn log to read a DIFF from");
  if (!log_reader_) log_reader_ = storage::Database::open_reader(database_path_);
  std::vector<tree::SharedTxn> txns;
  log_reader_->read_log_range(sync.log_from, sync.log_to, max_log_diff_bytes_,
                              [&](tree::Txn t) { txns.push_back(tree::share(std::move(t))); });
  txns.insert(txns.end(), std::make_move_iterator(sync.txns.begin()),
              std::make_move_iterator(sync.txns.end()));
  sync.txns = std::move(txns);
  sync.log_from = sync.log_to = 0;
}

void SnapshotStreams::send_long_sync(int64_t to, zab::Message sync) {
  // An older stream to the same learner belongs to a sync it has given up on.
  if (StreamPtr old = bound_to(to)) end(old);
  auto s = std::make_shared<Stream>(io_);
  s->learner = to;
  streams_.push_back(s);
  const bool from_log = sync.log_to != 0;
  asio::post(encoder_, [this, s, from_log, sync = std::move(sync)]() mutable {
    // A learner that reconnects and gives up again must not queue encodings behind it.
    if (s->cancelled) return;
    auto body = std::make_shared<std::string>();
    try {
      if (from_log) read_logged_txns(sync);
      *body = zab::encode_frame(zab::PeerFrame(std::move(sync)));
    } catch (const std::exception& e) {
      // Its connection is closed and it syncs again: by a SNAP, not this DIFF once more.
      const std::string why = std::string("its SYNC could not be made: ") + e.what();
      asio::post(io_, [this, s, from_log, why] {
        if (s->ended) return;
        if (from_log) mesh_.log_diff_failed(*s->learner);
        fail(s, why);
      });
      return;
    }
    asio::post(io_, [this, s, body] {
      if (s->ended) return;
      const size_t bytes = body->size();
      if (!mesh_.send(*s->learner, std::move(*body)))
        return fail(s, "its SYNC of " + std::to_string(bytes) +
                           " bytes could not be sent: the connection is down or the frame is "
                           "over the quorum frame limit");
      release(s);
    });
  });
}

void SnapshotStreams::drop(int64_t learner) {
  if (StreamPtr s = bound_to(learner)) end(s);
}

void SnapshotStreams::clear() {
  while (!streams_.empty()) end(streams_.back());
  reap();
}

void SnapshotStreams::pump(const StreamPtr& s) {
  if (mesh_.backlog(*s->learner) > kMaxBacklog) return retry_soon(s, &SnapshotStreams::pump);
  s->pipe.async_read_some(asio::buffer(s->buffer), [this, s](const asio::error_code& ec, size_t n) {
    if (s->ended) return;
    if (ec == asio::error::eof) return finish(s);
    if (ec) return fail(s, "its snapshot's pipe failed: " + ec.message());
    zab::Relay chunk;
    chunk.kind = zab::RelayKind::kSnapshotChunk;
    chunk.zxid = s->data->zxid;
    chunk.id = s->sent;
    chunk.body.assign(s->buffer.data(), n);
    s->sent += static_cast<int64_t>(n);
    if (!mesh_.send(*s->learner, zab::encode_frame(chunk)))
      return fail(s, "its connection went down during the snapshot");
    pump(s);
  });
}

void SnapshotStreams::finish(const StreamPtr& s) {
  int status = 0;
  pid_t reaped = wait_for(s->child, &status, 0);  // it closed the pipe: it is exiting
  s->child = -1;
  if (reaped < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(s, "the process writing its snapshot failed");
  spdlog::info("sent learner {} a snapshot of {} bytes at zxid 0x{:x}", *s->learner, s->sent,
               s->data->zxid);
  release(s);
}

void SnapshotStreams::release(const StreamPtr& s) {
  // Paced as the image was: frames held during a long stream under load could pass the
  // mesh's queue bound at once, and the learner would be cut off.
  while (!s->held.empty() && mesh_.backlog(*s->learner) <= kMaxBacklog) {
    if (!mesh_.send(*s->learner, std::move(s->held.front())))
      return fail(s, "its connection went down after the snapshot");
    s->held.pop_front();
  }
  if (s->held.empty()) return end(s);  // from now on frames go straight to the learner
  retry_soon(s, &SnapshotStreams::release);
}

void SnapshotStreams::retry_soon(const StreamPtr& s,
                                 void (SnapshotStreams::*step)(const StreamPtr&)) {
  s->wait.expires_after(2ms);
  s->wait.async_wait([this, s, step](const asio::error_code& ec) {
    if (!ec && !s->ended) (this->*step)(s);
  });
}

void SnapshotStreams::fail(const StreamPtr& s, const std::string& why) {
  const std::optional<int64_t> learner = s->learner;
  end(s);
  if (learner) mesh_.give_up(*learner, why);
}

void SnapshotStreams::end(const StreamPtr& stream) {
  const StreamPtr s = stream;  // `stream` may be the element erased below
  s->ended = true;
  s->cancelled = true;
  asio::error_code ignored;
  s->pipe.close(ignored);
  s->wait.cancel();
  if (s->child > 0) {
    kill(s->child, SIGKILL);
    killed_.push_back(s->child);
    s->child = -1;
  }
  s->held.clear();
  std::erase(streams_, s);
  reap();
}

void SnapshotStreams::reap() {
  std::erase_if(killed_, [](pid_t child) { return wait_for(child, nullptr, WNOHANG) != 0; });
}

SnapshotStreams::StreamPtr SnapshotStreams::bound_to(int64_t learner) const {
  for (const auto& s : streams_)
    if (s->learner == learner) return s;
  return nullptr;
}

}  // namespace corral::server
