// ServerCore: a client reattaching to its session, and in an ensemble the revalidation of
// a session a learner has not applied yet (ZooKeeper's REVALIDATE): the client may have
// created it, or last used it, on another server moments ago.
#include <spdlog/spdlog.h>

#include "ensemble/server/server_core.h"
#include "wire/sasl/digest_md5.h"

namespace corral::server {

session::Session* ServerCore::session_with_password(int64_t id, std::string_view passwd) {
  session::Session* s = sessions_.find(id);
  // The password is the session's only secret: compared in constant time, so that a client
  // cannot learn it a byte at a time from how fast a wrong one is refused.
  if (!s || s->closing || !sasl::equal_secrets(s->passwd, passwd)) return nullptr;
  return s;
}

void ServerCore::reattach(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout,
                          int64_t now_ms) {
  // Only the leader knows every live session: a learner may not have applied its creation.
  if (!sessions_.find(req.session_id) && forwards()) return revalidate(link, req, timeout);
  session::Session* s = session_with_password(req.session_id, req.passwd);
  if (!s) return refuse_session(link);
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
        session::Session* s = session_with_password(id, passwd);
        if (!s) return refuse_session(l);
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
  return session_with_password(id, passwd) && sessions_.touch(id, now_ms);
}

}  // namespace corral::server
