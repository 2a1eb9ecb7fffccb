// End to end: a real corral-server process fed bad input on its client port.
// After each bad input, that connection must be closed by the server, the
// server must stay up, a fresh well-behaved client must still work, and the
// tree must be unchanged by the bad request.
//
// The requests are encoded here by hand rather than with wire/, so a codec bug
// in the server cannot hide itself in the test.
//
// Apache ZooKeeper 3.8.0 (probed with the same bytes) behaves the same for bad frame
// lengths, bad handshakes, truncated frames, maxClientCnxns and the four-letter words.
// It differs in two places, on purpose in Corral:
// - a request body that does not decode (bad string/buffer length, vector count):
//   ZooKeeper answers ZMARSHALLINGERROR (-5) and keeps the connection; Corral closes it
//   (the rest of the stream cannot be trusted once one record is malformed);
// - an unknown opcode: both answer ZUNIMPLEMENTED (-6), then ZooKeeper closes the
//   connection while Corral keeps it usable.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace {

using namespace corral::e2e;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How long the server gets to answer, close a connection, or start.
constexpr auto kDeadline = 5s;
constexpr auto kStartDeadline = 15s;
/// jute.maxbuffer's default.
constexpr int32_t kDefaultMaxBuffer = 0xfffff;

// ---- Fixtures ----

/// A server with ZooKeeper's defaults (4lw whitelist: srvr only; jute.maxbuffer 0xfffff).
class BadInputTest : public ::testing::Test {
 protected:
  /// zoo.cfg lines added by a fixture.
  virtual std::string extra_config() const { return ""; }

  void SetUp() override {
    ASSERT_TRUE(server_.start(extra_config())) << server_.log();
    started_ = true;
  }

  void TearDown() override {
    if (!started_) return;
    EXPECT_TRUE(server_.running()) << "the server died; its log:\n" << server_.log();
    EXPECT_TRUE(server_.terminate()) << "the server did not exit cleanly on SIGTERM";
  }

  uint16_t port() const { return server_.port(); }

  /// A client with a session.
  std::unique_ptr<RawClient> session() {
    auto c = std::make_unique<RawClient>(port());
    EXPECT_TRUE(c->handshake()) << "handshake failed";
    return c;
  }

  /// The answer to a four-letter word (the server closes the connection after it).
  std::string four_letter_word(std::string_view word) {
    return corral::e2e::four_letter_word(port(), word, kDeadline).value_or("<no answer>");
  }

  /// The server's zxid and node count (from srvr): unchanged when no txn happened.
  std::string tree_state() {
    std::string srvr = four_letter_word("srvr");
    std::string out;
    std::istringstream lines(srvr);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("Zxid:", 0) == 0 || line.rfind("Node count:", 0) == 0) out += line + "\n";
    EXPECT_FALSE(out.empty()) << "srvr answered: " << srvr;
    return out;
  }

  /// A fresh client still works: handshake, create, getData, and `absent` (if given) does
  /// not exist. Retries the connection until the deadline (a closed connection may still
  /// count against maxClientCnxns for a moment).
  ::testing::AssertionResult healthy(std::string_view absent = {}) {
    const auto deadline = Clock::now() + kDeadline;
    std::unique_ptr<RawClient> c;
    for (;;) {
      c = std::make_unique<RawClient>(port());
      if (c->handshake()) break;
      if (Clock::now() > deadline)
        return ::testing::AssertionFailure() << "no handshake; server log:\n" << server_.log();
      std::this_thread::sleep_for(20ms);
    }
    const std::string path = "/healthy-" + std::to_string(++healthy_checks_);
    const std::string data = "ok " + path;
    auto created = c->create(path, data);
    if (created != kOk)
      return ::testing::AssertionFailure() << "create " << path << ": " << created.value_or(1);
    auto got = c->get_data(path);
    if (!got || got->err != kOk || got->data != data)
      return ::testing::AssertionFailure() << "getData " << path << " failed";
    if (!absent.empty()) {
      auto rc = c->exists(absent);
      if (!rc || rc->err != kNoNode)
        return ::testing::AssertionFailure()
               << "exists " << absent << ": " << (rc ? rc->err : 1) << ", expected ZNONODE";
    }
    c->call(kOpCloseSession);
    return ::testing::AssertionSuccess();
  }

  ServerProcess server_{"corral-e2e",
                        {.output = ServerProcess::Output::kLog,
                         .tick_ms = 2000,
                         .start_timeout = kStartDeadline,
                         .stop_timeout = kDeadline}};
  bool started_ = false;
  int healthy_checks_ = 0;
};

/// At most 3 connections per client address.
class MaxClientCnxnsTest : public BadInputTest {
  std::string extra_config() const override { return "maxClientCnxns=3\n"; }
};

/// Every four-letter word enabled.
class AllFourLetterWordsTest : public BadInputTest {
  std::string extra_config() const override { return "4lw.commands.whitelist=*\n"; }
};

/// A small jute.maxbuffer.
class SmallMaxBufferTest : public BadInputTest {
  std::string extra_config() const override { return "jute.maxbuffer=4096\n"; }
};

// ---- Frame lengths ----

TEST_F(BadInputTest, OversizedFrameLengthBeforeHandshakeClosesConnection) {
  RawClient c(port());
  std::string bytes;
  put32(bytes, kDefaultMaxBuffer + 1);
  bytes += connect_request();
  ASSERT_TRUE(c.send(bytes));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, OversizedFrameLengthClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string bytes;
  put32(bytes, kDefaultMaxBuffer + 1);
  bytes += request(1, kOpCreate, create_body("/bad-oversized", "x"));
  ASSERT_TRUE(c->send(bytes));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-oversized"));
}

TEST_F(BadInputTest, NegativeFrameLengthClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string bytes;
  put32(bytes, -1);
  bytes += request(1, kOpCreate, create_body("/bad-negative", "x"));
  ASSERT_TRUE(c->send(bytes));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-negative"));
}

/// A well-formed create of `path` whose frame payload is exactly `size` bytes.
std::string create_of_size(int32_t xid, std::string_view path, size_t size) {
  const size_t overhead = request(xid, kOpCreate, create_body(path, "")).size();
  return request(xid, kOpCreate, create_body(path, std::string(size - overhead, 'd')));
}

TEST_F(SmallMaxBufferTest, FrameOverConfiguredMaxBufferClosesConnection) {
  auto c = session();
  // A frame of exactly jute.maxbuffer bytes is fine...
  std::string fits = create_of_size(1, "/fits", 4096);
  ASSERT_EQ(fits.size(), 4096u);
  ASSERT_TRUE(c->send(frame(fits)));
  auto reply = c->read_frame();
  ASSERT_TRUE(reply && reply->size() >= 16);
  EXPECT_EQ(get32(*reply, 12), kOk);
  // ...a well-formed one a byte longer closes the connection.
  std::string too_big = create_of_size(2, "/bad-too-big", 4097);
  ASSERT_EQ(too_big.size(), 4097u);
  const std::string before = tree_state();
  ASSERT_TRUE(c->send(frame(too_big)));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-too-big"));
}

// ---- Bodies that do not decode ----

TEST_F(BadInputTest, StringLengthBelowMinusOneClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put32(body, -2);  // the path's length
  body += "/bad-strlen";
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-strlen"));
}

TEST_F(BadInputTest, BufferLengthBelowMinusOneLeavesNodeUnchanged) {
  ASSERT_EQ(session()->create("/victim", "original"), kOk);
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put_buffer(body, "/victim");
  put32(body, -7);  // the data's length
  body += "changed";
  put32(body, -1);  // version
  ASSERT_TRUE(c->send(frame(request(1, kOpSetData, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  auto got = session()->get_data("/victim");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "original");
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, StringLengthPastEndOfFrameClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put32(body, 1000);  // the path's length; the frame ends long before
  body += "/bad-past-end";
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-past-end"));
}

TEST_F(BadInputTest, VectorCountThatCannotFitClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put_buffer(body, "/bad-vector");
  put_buffer(body, "data");
  put32(body, 0x7fffffff);  // ACL count
  put32(body, 31);
  put_buffer(body, "world");
  put_buffer(body, "anyone");
  put32(body, 0);  // flags
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-vector"));
}

TEST_F(BadInputTest, TruncatedFrameThenCloseLeavesTreeUnchanged) {
  auto c = session();
  const std::string before = tree_state();
  std::string whole = frame(request(1, kOpCreate, create_body("/bad-truncated", "x")));
  ASSERT_TRUE(c->send(std::string_view(whole).substr(0, whole.size() - 5)));
  c->shutdown_write();
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-truncated"));
}

// ---- Handshake ----

TEST_F(BadInputTest, GarbageHandshakeClosesConnection) {
  const std::string before = tree_state();
  RawClient c(port());
  ASSERT_TRUE(c.send(frame(std::string(10, '\xab'))));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, HandshakePasswordPastEndOfFrameClosesConnection) {
  const std::string before = tree_state();
  RawClient c(port());
  std::string req = connect_request();
  req.resize(24);       // protocolVersion, lastZxidSeen, timeOut, sessionId
  put32(req, 0x10000);  // passwd length, far past the end
  ASSERT_TRUE(c.send(frame(req)));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, RequestBeforeHandshakeClosesConnection) {
  const std::string before = tree_state();
  // exists("/") is 14 bytes: too short for a ConnectRequest.
  RawClient c(port());
  ASSERT_TRUE(c.send(frame(request(1, kOpExists, path_watch_body("/")))));
  EXPECT_TRUE(c.wait_closed());
  // A create whose bytes happen to decode as a ConnectRequest: lastZxidSeen is the opcode and
  // the path's length (0x10000000c, far in the future), sessionId comes from the 12-byte path
  // and the empty data is the password. The server refuses the session, as ZooKeeper does.
  RawClient d(port());
  ASSERT_TRUE(d.send(frame(request(1, kOpCreate, create_body("/bad-early-1", "")))));
  EXPECT_TRUE(d.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-early-1"));
}

// ---- Requests ----

TEST_F(BadInputTest, UnknownOpcodeAnswersUnimplementedAndConnectionStaysUsable) {
  auto c = session();
  const std::string before = tree_state();
  auto r = c->call(9999, "some body");
  ASSERT_TRUE(r) << "no answer to an unknown opcode";
  EXPECT_EQ(r->err, kUnimplemented);
  EXPECT_EQ(tree_state(), before);
  EXPECT_EQ(c->create("/after-unknown", "still here"), kOk);
  auto got = c->get_data("/after-unknown");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "still here");
  EXPECT_TRUE(healthy());
}

// ---- Connection limits ----

TEST_F(MaxClientCnxnsTest, ConnectionOverLimitIsClosed) {
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(clients.back()->handshake()) << "connection " << i + 1;
  }
  // The fourth connection is accepted by the kernel, then closed unanswered.
  RawClient fourth(port());
  ASSERT_TRUE(fourth.connected());
  fourth.send(frame(connect_request()));  // may already fail: the server may have closed it
  std::string answer;
  EXPECT_TRUE(fourth.wait_closed(&answer));
  EXPECT_EQ(answer, "");
  // The first three still work.
  EXPECT_EQ(clients[0]->create("/from-first", "1"), kOk);
  // Once one goes, a new client gets in.
  clients.pop_back();
  EXPECT_TRUE(healthy());
}

// ---- Four-letter words ----

TEST_F(AllFourLetterWordsTest, RuokAnswersImok) {
  EXPECT_EQ(four_letter_word("ruok"), "imok");
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, SrvrIsAlwaysAllowed) {
  std::string out = four_letter_word("srvr");
  EXPECT_NE(out.find("Zookeeper version:"), std::string::npos) << out;
  EXPECT_NE(out.find("Mode: standalone"), std::string::npos) << out;
  EXPECT_TRUE(healthy());
}

// A client that is still sending when the server closes must still get to read what the
// server answered. kazoo, refused a SASL login, sometimes sent its next packet after the
// server's answer and close: the server's kernel answered it with a reset, kazoo's write
// failed, and it reported a lost connection instead of AUTH_FAILED (ZooKeeper's Netty closes
// gracefully). So the server sends FIN and keeps reading (discarding) until the client closes
// or a short linger passes: writes right after the close succeed and the answer is read.
TEST_F(BadInputTest, ClientStillSendingAfterTheAnswerReadsItWithoutReset) {
  RawClient c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("srvr" + std::string(64 * 1024, 'x')));
  // Wait until the server has closed that connection (srvr then counts only the asking one).
  const auto deadline = Clock::now() + kDeadline;
  while (four_letter_word("srvr").find("Connections: 1\n") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << "the srvr connection was not closed";
    std::this_thread::sleep_for(10ms);
  }
  // The client's next packet, sent after the close, as kazoo's was: no reset comes back.
  ASSERT_TRUE(c.send(std::string(1024, 'y')));
  ASSERT_TRUE(c.send(std::string(1024, 'z'))) << "the server reset the connection";
  std::string answer;
  ASSERT_TRUE(c.wait_closed(&answer));
  EXPECT_NE(answer.find("Zookeeper version:"), std::string::npos) << "got: '" << answer << "'";
  EXPECT_NE(answer.find("Node count:"), std::string::npos) << "got: '" << answer << "'";
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, WordsOutsideWhitelistAreRefused) {
  EXPECT_EQ(four_letter_word("ruok"), "ruok is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(four_letter_word("stat"), "stat is not executed because it is not in the whitelist.\n");
  EXPECT_TRUE(healthy());
}

}  // namespace
