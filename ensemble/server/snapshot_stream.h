// A leader's SNAP, sent without stopping the leader. Capturing and encoding 1,000,000 znodes
// took the leader's thread about 4 s, during which none of its clients was served. Now a
// forked child process holds the tree as it was at the SYNC's zxid (the kernel copies pages
// only as the leader changes them), encodes the image and writes it into a pipe; the leader
// relays the pipe to the learner in kSnapshotChunk relays as the learner's connection drains,
// and holds whatever the ZAB core sends that learner meanwhile (the SYNC itself, NEWLEADER,
// proposals, commits) until the image is through, so the learner sees the same order as if
// the SYNC had carried the image. Redis takes its snapshots the same way.
//
// A long DIFF is held the same way: encoding 90,000 txns into one SYNC took the leader's
// thread about 100 ms, so a SYNC with many txns is encoded on a thread of its own, and what
// the core sends that learner meanwhile waits behind it.
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/zab/messages.h"

namespace corral::server {

/// The leader's streamed SNAPs and long DIFFs being encoded, one per learner being sent one.
class SnapshotStreams {
 public:
  /// How the streams reach the quorum mesh: send a frame body to a member, the bytes queued
  /// to it, and give up on a learner (its connection is closed: it syncs again).
  struct Mesh {
    std::function<bool(int64_t to, std::string body)> send;
    std::function<size_t(int64_t to)> backlog;
    std::function<void(int64_t learner, const std::string& why)> give_up;
    /// A DIFF from the log could not be made for `learner` (unreadable, or over the limit):
    /// its next sync should be a SNAP (zab::Peer::log_diff_failed).
    std::function<void(int64_t learner)> log_diff_failed;
  };

  /// A long DIFF from further back than the core's memory reads the older txns from the log
  /// in the database at `database_path` (empty: none; such a SYNC fails), at most
  /// `max_log_diff_bytes` of their records.
  SnapshotStreams(asio::io_context& io, Mesh mesh, std::string database_path = {},
                  size_t max_log_diff_bytes = size_t{256} << 20);
  /// Stops the encoding thread and kills the children still writing.
  ~SnapshotStreams();
  SnapshotStreams(const SnapshotStreams&) = delete;
  SnapshotStreams& operator=(const SnapshotStreams&) = delete;

  /// Forks the child that writes `tree` (whose last zxid is the snapshot's) and `sessions`.
  /// The data returned names the stream: the SYNC that carries it binds it to its learner.
  /// Throws std::system_error when there is no pipe or no child.
  std::shared_ptr<const zab::SnapshotData> start(const tree::DataTree& tree,
                                                 std::vector<storage::SessionRow> sessions);
  /// Sends `body`, the encoding of `m`, to `to` now, or holds it behind the stream to `to`.
  /// A SYNC carrying a started stream's data binds that stream to `to` and starts it.
  void send(int64_t to, const zab::Message& m, std::string body);
  /// Whether `m` is a SYNC to encode aside (send_long_sync): a DIFF or TRUNC with many txns,
  /// or with txns to read from the log.
  static bool long_sync(const zab::Message& m);
  /// Encodes `sync` (a long_sync) on the encoding thread and sends it to `to` when done;
  /// until then, what is sent to `to` is held behind it.
  void send_long_sync(int64_t to, zab::Message sync);
  /// `learner`'s connection is gone: its stream ends and its held frames are dropped.
  void drop(int64_t learner);
  /// Ends every stream (the server stops leading).
  void clear();
  /// Streams under way (for tests and logs).
  size_t active() const { return streams_.size(); }

 private:
  struct Stream {
    explicit Stream(asio::io_context& io) : pipe(io), wait(io) {}
    std::shared_ptr<const zab::SnapshotData> data;
    pid_t child = -1;
    asio::posix::stream_descriptor pipe;
    asio::steady_timer wait;
    /// The learner, once the SYNC went out; from the start for a long SYNC being encoded (which
    /// has no child and no pipe: the SYNC is the stream). Member ids start at 0.
    std::optional<int64_t> learner;
    /// Set by end(), read by the encoding thread: a SYNC nobody waits for is not encoded.
    std::atomic<bool> cancelled{false};
    /// Bytes relayed so far (the next chunk's offset).
    int64_t sent = 0;
    std::vector<char> buffer;
    std::deque<std::string> held;
    /// Set by end(): handlers still queued for the stream do nothing (the streams may be
    /// gone by then).
    bool ended = false;
  };
  using StreamPtr = std::shared_ptr<Stream>;

  /// Relays the next part of the pipe when the learner's queue allows.
  void pump(const StreamPtr& s);
  /// The child wrote everything: the held frames follow the image.
  void finish(const StreamPtr& s);
  /// Releases the held frames as the learner's queue allows, then unbinds the stream.
  void release(const StreamPtr& s);
  /// Runs `step` again in 2 ms: the learner's queue is full.
  void retry_soon(const StreamPtr& s, void (SnapshotStreams::*step)(const StreamPtr&));
  void fail(const StreamPtr& s, const std::string& why);
  /// Kills and reaps the child, and forgets the stream.
  void end(const StreamPtr& stream);
  StreamPtr bound_to(int64_t learner) const;
  /// Reaps the children killed earlier that have exited, without waiting.
  void reap();

  asio::io_context& io_;
  Mesh mesh_;
  std::vector<StreamPtr> streams_;
  /// Children killed and not reaped yet: waiting for one to exit would stop the leader.
  std::vector<pid_t> killed_;
  /// Puts the logged txns `sync` names (log_from, log_to] before its txns; on the encoding
  /// thread. Throws storage::StorageError.
  void read_logged_txns(zab::Message& sync);

  const std::string database_path_;
  const size_t max_log_diff_bytes_;
  /// The encoding thread's own connection to the database, opened on first use there.
  std::unique_ptr<storage::Database> log_reader_;
  /// Encodes long SYNCs, one at a time; joined first when the streams go (its jobs use them).
  asio::thread_pool encoder_{1};
};

}  // namespace corral::server
