#include "ensemble/zab/codec.h"

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "ensemble/txn/txn_codec.h"
#include "ensemble/zab/wire.pb.h"

namespace corral::zab {
namespace {

void to_pb(const Vote& v, pb::Vote* out) {
  out->set_leader(v.leader);
  out->set_zxid(v.zxid);
  out->set_peer_epoch(v.peer_epoch);
}

std::string encode_notification(const Notification& n) {
  pb::PeerFrame f;
  pb::Notification* p = f.mutable_notification();
  p->set_from(n.from);
  p->set_state(static_cast<int32_t>(n.state));
  to_pb(n.vote, p->mutable_vote());
  p->set_election_epoch(n.election_epoch);
  p->set_abstaining(n.abstaining);
  p->set_config_version(n.config_version);
  p->set_config(n.config);
  return f.SerializeAsString();
}

std::string encode_message(const Message& m) {
  if (m.log_to != 0) {
    // The driver reads those txns into `txns` first (SnapshotStreams): sent as they are, the
    // learner would log a history with a gap.
    std::fprintf(stderr, "corral: a SYNC is encoded before its logged txns were read\n");
    std::abort();
  }
  pb::PeerFrame f;
  pb::ZabMessage* p = f.mutable_message();
  p->set_type(static_cast<int32_t>(m.type));
  p->set_from(m.from);
  p->set_to(m.to);
  p->set_epoch(m.epoch);
  p->set_zxid(m.zxid);
  p->set_observer(m.observer);
  p->set_wants_snapshot(m.wants_snapshot);
  p->set_sync_mode(static_cast<int32_t>(m.sync_mode));
  p->set_trunc_zxid(m.trunc_zxid);
  p->set_committed_zxid(m.committed_zxid);
  if (m.snapshot) {
    p->mutable_snapshot()->set_zxid(m.snapshot->zxid);
    p->mutable_snapshot()->set_bytes(m.snapshot->bytes);
    p->mutable_snapshot()->set_streamed(m.snapshot->streamed);
  }
  std::string scratch;  // the encoding of a txn with no record: a test's, proposed unencoded
  for (const auto& t : m.txns) p->add_txns(txn::record_of(*t, scratch));
  p->set_designated_leader(m.designated_leader);
  p->set_config(m.config);
  p->set_config_version(m.config_version);
  return f.SerializeAsString();
}

Message decode_message(pb::ZabMessage& p) {
  Message m;
  m.type = static_cast<MessageType>(p.type());
  m.from = p.from();
  m.to = p.to();
  m.epoch = p.epoch();
  m.zxid = p.zxid();
  m.observer = p.observer();
  m.wants_snapshot = p.wants_snapshot();
  m.sync_mode = static_cast<SyncMode>(p.sync_mode());
  m.trunc_zxid = p.trunc_zxid();
  m.committed_zxid = p.committed_zxid();
  if (p.has_snapshot())
    m.snapshot = std::make_shared<SnapshotData>(
        SnapshotData{p.snapshot().zxid(), p.snapshot().bytes(), p.snapshot().streamed()});
  for (std::string& bytes : *p.mutable_txns()) {
    tree::Txn txn = txn::decode_txn(bytes);
    txn.record = std::move(bytes);  // what the learner logs: not encoded again
    m.txns.push_back(tree::share(std::move(txn)));
  }
  m.designated_leader = p.designated_leader();
  m.config = p.config();
  m.config_version = p.config_version();
  return m;
}

std::string encode_relay(const Relay& r) {
  pb::PeerFrame f;
  pb::Relay* p = f.mutable_relay();
  p->set_kind(static_cast<int32_t>(r.kind));
  p->set_from(r.from);
  p->set_session_id(r.session_id);
  p->set_cxid(r.cxid);
  p->set_type(r.type);
  p->set_body(r.body);
  for (const auto& id : r.auth) {
    pb::AuthId* a = p->add_auth();
    a->set_scheme(id.scheme);
    a->set_id(id.id);
  }
  p->set_timeout_ms(r.timeout_ms);
  p->set_passwd(r.passwd);
  for (int64_t s : r.sessions) p->add_sessions(s);
  p->set_id(r.id);
  p->set_zxid(r.zxid);
  p->set_valid(r.valid);
  return f.SerializeAsString();
}

Relay decode_relay(const pb::Relay& p) {
  Relay r;
  r.kind = static_cast<RelayKind>(p.kind());
  r.from = p.from();
  r.session_id = p.session_id();
  r.cxid = p.cxid();
  r.type = p.type();
  r.body = p.body();
  for (const auto& a : p.auth()) r.auth.push_back(wire::Id{a.scheme(), a.id()});
  r.timeout_ms = p.timeout_ms();
  r.passwd = p.passwd();
  r.sessions.assign(p.sessions().begin(), p.sessions().end());
  r.id = p.id();
  r.zxid = p.zxid();
  r.valid = p.valid();
  return r;
}

bool valid_enums(const pb::PeerFrame& f) {
  if (f.has_relay())
    return f.relay().kind() >= 0 && f.relay().kind() <= static_cast<int>(RelayKind::kSnapshotChunk);
  if (f.has_notification()) {
    int s = f.notification().state();
    return s >= 0 && s <= static_cast<int>(PeerState::kObserving);
  }
  const auto& m = f.message();
  return m.type() >= 0 && m.type() <= static_cast<int>(MessageType::kPing) && m.sync_mode() >= 0 &&
         m.sync_mode() <= static_cast<int>(SyncMode::kSnap);
}

}  // namespace

std::string encode_frame(const PeerFrame& frame) {
  if (const auto* n = std::get_if<Notification>(&frame)) return encode_notification(*n);
  if (const auto* r = std::get_if<Relay>(&frame)) return encode_relay(*r);
  return encode_message(std::get<Message>(frame));
}

std::optional<PeerFrame> decode_frame(std::string_view bytes) {
  pb::PeerFrame f;
  if (bytes.size() > static_cast<size_t>(INT_MAX) ||
      !f.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      f.body_case() == pb::PeerFrame::BODY_NOT_SET || !valid_enums(f))
    return std::nullopt;
  if (f.has_notification()) {
    const auto& p = f.notification();
    return Notification{p.from(),
                        static_cast<PeerState>(p.state()),
                        Vote{p.vote().leader(), p.vote().zxid(), p.vote().peer_epoch()},
                        p.election_epoch(),
                        p.abstaining(),
                        p.config_version(),
                        p.config()};
  }
  if (f.has_relay()) return decode_relay(f.relay());
  try {
    return decode_message(*f.mutable_message());
  } catch (const txn::DecodeError&) {
    return std::nullopt;  // a txn record that does not decode
  }
}

}  // namespace corral::zab
