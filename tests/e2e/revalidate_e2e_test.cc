// A client reattaching to its session on a follower that has not applied it yet, end to end,
// against corral-server or Apache ZooKeeper 3.8 (the oracle), chosen by ENSEMBLE_IMPL.
//
// Every quorum connection runs through a TcpProxy, so the test can hold everything that
// travels INTO one follower B (its leader's PROPOSALs and COMMITs, and the answers to its
// own messages) while B keeps serving clients and its own messages still reach the leader.
// A session created on the other follower A then commits without B: B has certainly not
// applied it when a client reattaches to B with that session's id and password.
//
//  - that client gets its session (same id and password; ZooKeeper's Learner.validateSession
//    asks the leader, REVALIDATE), once the leader's answer reaches B, never "expired";
//  - a wrong password, or a session nobody created, is told "expired";
//  - with the leader silent (SIGSTOP), B closes the connection without an answer (the client
//    tries another server), and the session is still there once a quorum is back.
//
// Environment: ENSEMBLE_IMPL=corral|zookeeper (default corral), ENSEMBLE_KEEP=1.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/quorum_proxies.h"
#include "tests/e2e/raw_client.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kTickMs = 500;
constexpr int kSyncLimit = 5;
constexpr int32_t kSessionMs = 10000;  // the maximum with tickTime=500
constexpr int32_t kEphemeral = 1;

Impl g_impl = Impl::kCorral;

/// The session a server handed out.
struct Session {
  int64_t id = 0;
  std::string passwd;
};

/// What a ConnectResponse said, or nothing when the connection closed (or stayed silent).
struct Answer {
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
};

/// A ConnectRequest to reattach to session `id` with `passwd`, having seen no zxid.
std::string reattach_request(int64_t id, const std::string& passwd) {
  std::string out;
  put32(out, 0);  // protocolVersion
  put64(out, 0);  // lastZxidSeen
  put32(out, kSessionMs);
  put64(out, id);
  put_buffer(out, passwd);
  out.push_back('\0');  // readOnly: false
  return frame(out);
}

/// Parses a ConnectResponse: protocolVersion, timeOut, sessionId, passwd.
std::optional<Answer> parse_answer(const std::optional<std::string>& payload) {
  if (!payload || payload->size() < 20) return std::nullopt;
  Answer a{get32(*payload, 4), get64(*payload, 8), {}};
  size_t len = static_cast<size_t>(std::max(0, get32(*payload, 16)));
  a.passwd = payload->substr(20, len);
  return a;
}

/// srvr's "Zxid: 0x..." of the member on `port`, or -1.
int64_t srvr_zxid(uint16_t port) {
  std::string text = four_letter_word(port, "srvr", 2000ms).value_or("");
  size_t at = text.find("Zxid: 0x");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + 8), nullptr, 16);
}

class RevalidateE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    Ensemble::Options o;
    o.impl = g_impl;
    o.tick_ms = kTickMs;
    o.sync_limit = kSyncLimit;
    o.name = "corral-revalidate";
    ensemble_ = std::make_unique<Ensemble>(o);
    ASSERT_TRUE(ensemble_->ok()) << ensemble_->error();
    proxies_ = std::make_unique<QuorumProxies>(*ensemble_);
    ASSERT_TRUE(proxies_->ok());
    auto t0 = Clock::now();
    ASSERT_TRUE(ensemble_->start_all()) << ensemble_->error() << "\n" << ensemble_->describe();
    std::printf("ensemble serving after %lld ms\n",
                static_cast<long long>((Clock::now() - t0) / 1ms));
    leader_ = ensemble_->wait_for_quorum(Clock::now() + 30s);
    ASSERT_GE(leader_, 0) << ensemble_->describe();
    a_ = (leader_ + 1) % 3;
    b_ = (leader_ + 2) % 3;
  }

  void TearDown() override {
    if (!ensemble_) return;
    if (HasFailure()) {
      ensemble_->keep_dir();
      std::printf("%s\n", ensemble_->describe().c_str());
    }
    ensemble_.reset();  // the servers go before the proxies
    proxies_.reset();
  }

  /// A new session on member i, from a raw client that then stays connected.
  Session create_session(int i) {
    clients_.push_back(std::make_unique<RawClient>(ensemble_->client_port(i)));
    RawClient& c = *clients_.back();
    EXPECT_TRUE(c.send(frame(connect_request(kSessionMs))));
    auto a = parse_answer(c.read_frame());
    EXPECT_TRUE(a && a->session_id != 0) << "no session from member " << i;
    return a ? Session{a->session_id, a->passwd} : Session{};
  }

  /// A client on member i that asked to reattach to `s` (the answer is read later).
  std::unique_ptr<RawClient> reattach(int i, const Session& s, std::chrono::milliseconds wait) {
    auto c = std::make_unique<RawClient>(ensemble_->client_port(i), wait);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->send(reattach_request(s.id, s.passwd)));
    return c;
  }

  std::unique_ptr<Ensemble> ensemble_;
  std::unique_ptr<QuorumProxies> proxies_;
  std::vector<std::unique_ptr<RawClient>> clients_;
  int leader_ = -1, a_ = -1, b_ = -1;
};

TEST_F(RevalidateE2e, FollowerThatHasNotAppliedASessionAsksTheLeader) {
  proxies_->hold_into(b_, true);
  Session s = create_session(a_);
  ASSERT_NE(s.id, 0);
  // Another one for the wrong password: a reattach to a session closes that session's other
  // connection on the server in ZooKeeper (even before the password is checked).
  Session other = create_session(a_);
  ASSERT_NE(other.id, 0);
  // B serves, but has not applied the createSessions that A and the leader committed.
  int64_t zxid_a = srvr_zxid(ensemble_->client_port(a_));
  int64_t zxid_b = srvr_zxid(ensemble_->client_port(b_));
  ASSERT_GT(zxid_b, -1) << "B does not serve";
  ASSERT_LT(zxid_b, zxid_a) << "B applied the new session: nothing to revalidate";

  auto t0 = Clock::now();
  auto good = reattach(b_, s, 400ms);
  auto wrong = reattach(b_, {other.id, std::string(16, 'x')}, 400ms);
  auto unknown = reattach(b_, {s.id ^ 0x5a5a5a, s.passwd}, 400ms);
  // While B cannot hear the leader it cannot decide: no answer, and above all not "expired".
  auto early = parse_answer(good->read_frame());
  EXPECT_FALSE(early) << "B answered without the leader: session 0x" << std::hex
                      << (early ? early->session_id : 0) << " timeout " << std::dec
                      << (early ? early->timeout_ms : 0);

  proxies_->hold_into(b_, false);
  std::optional<Answer> got;
  for (int i = 0; i < 20 && !got; ++i) got = parse_answer(good->read_frame());
  ASSERT_TRUE(got) << "no answer after the leader was heard again";
  std::printf(
      "%s: reattach on a lagging follower answered %lld ms after it was sent (B could "
      "not hear the leader for the first 400 ms)\n",
      impl_name(g_impl), static_cast<long long>((Clock::now() - t0) / 1ms));
  EXPECT_EQ(got->session_id, s.id);
  EXPECT_EQ(got->passwd, s.passwd);
  EXPECT_GT(got->timeout_ms, 0);
  // The session works on B: an ephemeral node it makes belongs to it, as A sees too.
  ASSERT_TRUE(
      good->send(frame(request(1, kOpCreate, create_body("/revalidated", "", kEphemeral)))));
  std::optional<std::string> reply;
  for (int i = 0; i < 20 && !reply; ++i) reply = good->read_frame();
  ASSERT_TRUE(reply && reply->size() >= 16) << "no answer to create on B";
  EXPECT_EQ(get32(*reply, 0), 1);
  EXPECT_EQ(get32(*reply, 12), kOk);
  RawClient on_a(ensemble_->client_port(a_));
  ASSERT_TRUE(on_a.handshake());
  auto view = on_a.exists("/revalidated");
  ASSERT_TRUE(view);
  // A may not have applied it yet: sync through exists until it has (bounded).
  for (int i = 0; i < 50 && view && view->err != kOk; ++i) {
    std::this_thread::sleep_for(20ms);
    view = on_a.exists("/revalidated");
  }
  ASSERT_TRUE(view && view->err == kOk) << *view;
  EXPECT_EQ(get64(view->stat, 44), s.id);  // ephemeralOwner

  for (auto* c : {wrong.get(), unknown.get()}) {
    std::optional<Answer> a;
    for (int i = 0; i < 20 && !a; ++i) a = parse_answer(c->read_frame());
    ASSERT_TRUE(a) << "no answer to a bad reattach";
    EXPECT_EQ(a->timeout_ms, 0) << "expected an expired session";
    EXPECT_TRUE(c->wait_closed());
  }
}

TEST_F(RevalidateE2e, SilentLeaderClosesTheConnectionInsteadOfExpiring) {
  proxies_->hold_into(b_, true);
  Session s = create_session(a_);
  ASSERT_NE(s.id, 0);
  ASSERT_TRUE(ensemble_->pause(leader_));
  // B gives up on its leader after syncLimit ticks and closes its clients' connections.
  auto t0 = Clock::now();
  auto c = reattach(b_, s, std::chrono::milliseconds(kSyncLimit * kTickMs + 3000));
  std::string received;
  EXPECT_TRUE(c->wait_closed(&received)) << "B kept the connection without a leader";
  EXPECT_TRUE(received.empty()) << "B answered without a leader (" << received.size()
                                << " bytes): the client would think its session expired";
  std::printf("%s: reattach without a leader closed after %lld ms\n", impl_name(g_impl),
              static_cast<long long>((Clock::now() - t0) / 1ms));

  // The client retries once the others have a quorum again: its session is still there.
  proxies_->hold_into(b_, false);
  ASSERT_TRUE(ensemble_->resume(leader_));
  ASSERT_GE(ensemble_->wait_for_quorum(Clock::now() + 30s), 0) << ensemble_->describe();
  std::optional<Answer> back;
  for (int i = 0; i < 50 && !(back && back->session_id); ++i) {
    auto again = reattach(b_, s, 2000ms);
    back = parse_answer(again->read_frame());
    if (!back) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(back) << "no answer after the quorum came back";
  EXPECT_EQ(back->session_id, s.id);
  EXPECT_GT(back->timeout_ms, 0);
}

}  // namespace
}  // namespace corral::e2e

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  corral::e2e::g_impl = corral::e2e::impl_from_env();
  return RUN_ALL_TESTS();
}
