// ServerCore: a client reattaching to its session, and in an ensemble the revalidation of
// a session a learner has not applied yet (ZooKeeper's REVALIDATE): the client may have
// created it, or last used it, on another server moments ago.
#include <spdlog/spdlog.h>

#include "ensemble/server/server_core.h"

namespace corral::server {

void ServerCore::reattach(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout,
                          int64_t now_ms) {
  session::Session* s = sessions_.find(req.session_id);
  // Only the leader knows every live session: a learner may not have applied its creation.
  if (!s && forwards()) return revalidate(link, req, timeout);
  if (!s || s->closing || s->passwd != req.passwd) return refuse_session(link);
  resume_session(link, *s, timeout, now_ms);
}

void ServerCore::resume_session(ClientLink& link, session::Session& s, int32_t timeout,
                                int64_t now_ms) {
  if (auto old = session_links_.find(s.id); old != session_links_.end()) {
    ClientLink* previous = old->second;
    detach(*previous);
    previous->closing = true;
    previous->close();
  }
  s.timeout_ms = timeout;
  sessions_.touch(s.id, now_ms);
  finish_handshake(link, s.id, timeout, s.passwd);
}

void ServerCore::revalidate(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout) {
  // Counted as a write: frames sent after the handshake wait for the verdict.
  ++link.writes_submitted;
  auto verdict = [this, link_id = link.id, id = req.session_id, passwd = req.passwd, timeout](
                     bool valid, int64_t zxid) {
    if (!valid) return write_done(link_id, [this](ClientLink& l) { refuse_session(l); });
    // The leader knew the session at `zxid`. Once this server has applied as much, its own
    // tracker holds the session too, unless a later txn closed it meanwhile.
    when_applied(zxid, [this, link_id, id, passwd, timeout] {
      write_done(link_id, [&](ClientLink& l) {
        session::Session* s = sessions_.find(id);
        if (!s || s->closing || s->passwd != passwd) return refuse_session(l);
        resume_session(l, *s, timeout, last_now_ms_);
      });
    });
  };
  if (replication_->revalidate(req.session_id, req.passwd, std::move(verdict))) return;
  // Without a leader nobody can say whether the session lives: the client must try another
  // server rather than hear that its session expired.
  spdlog::info("closing a reattach of session 0x{:x}: the leader cannot be reached",
               req.session_id);
  link.closing = true;
  link.close();
}

bool ServerCore::revalidate_session(int64_t id, const std::string& passwd, int64_t now_ms) {
  session::Session* s = sessions_.find(id);
  if (!s || s->passwd != passwd) return false;
  return sessions_.touch(id, now_ms);  // false while it is closing
}

}  // namespace corral::server
