// The quorum's security against a rogue peer (CVE-2023-44981 class: ZooKeeper's quorum SASL
// was skipped for a crafted myid) and the bound on a member's send queue, with real
// corral-server processes. The ensemble's config has a fourth member, id 4, that never
// runs: corral-rogue-peer takes its ports (so the real members dial the rogue), and also
// claims an existing id (3) and a new one (99). It votes for itself, talks as a leader and
// as a follower, and forwards writes (see rogue_peer.cc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/wait_until.h"

extern char** environ;

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int32_t kNoNode = -101;
const char* kRogueNodes[] = {"/rogue-leader-sync", "/rogue-leader-proposal",
                             "/rogue-follower-write"};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The epoch in a member's `srvr` Zxid line, or -1.
int64_t epoch_of(uint16_t port) {
  auto out = four_letter_word(port, "srvr");
  if (!out) return -1;
  auto at = out->find("Zxid: 0x");
  if (at == std::string::npos) return -1;
  return static_cast<int64_t>(std::stoull(out->substr(at + 8), nullptr, 16) >> 32);
}

// A temp directory for the JAAS file and certificates, removed at the end.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/corral-qsec-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// corral-rogue-peer, running until the object goes.
class Rogue {
 public:
  Rogue(const fs::path& cfg, const fs::path& out, std::vector<std::string> extra) : out_(out) {
    std::vector<std::string> args = {CORRAL_ROGUE_BIN, cfg.string(), "--seat",  "4",
                                     "--claim",        "3",          "--claim", "99",
                                     "--duration-ms",  "120000"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (out.string() + ".err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Rogue() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string output() const { return read_file(out_) + read_file(out_.string() + ".err"); }

 private:
  fs::path out_;
  pid_t pid_ = -1;
};

void run(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// A CA, a certificate for 127.0.0.1 signed by it (keystore: key + certificate in one PEM),
// under `dir` with file names starting with `name`.
void make_pki(const fs::path& dir, const std::string& name) {
  const std::string d = dir.string() + "/" + name;
  run("cd " + dir.string() + " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" +
      name + "-ca -keyout " + d + "-ca.key -out " + d + "-ca.pem 2>/dev/null" +
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d + ".key -out " +
      d + ".csr 2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\\n' > " + d + ".ext" +
      " && openssl x509 -req -in " + d + ".csr -CA " + d + "-ca.pem -CAkey " + d +
      "-ca.key -CAcreateserial -days 2 -extfile " + d + ".ext -out " + d + ".crt 2>/dev/null" +
      " && cat " + d + ".key " + d + ".crt > " + d + ".pem");
}

Ensemble::Options four_seats(const std::string& extra_cfg) {
  Ensemble::Options o;
  o.size = 4;  // member index 3 (id 4) is the rogue's seat and never starts
  o.tick_ms = 200;
  o.extra_cfg = extra_cfg;
  o.name = "corral-qsec";
  return o;
}

// Starts the rogue, then members 1-3; checks that the rogue changes nothing.
void expect_rogue_refused(Ensemble& ens, const fs::path& tmp, std::vector<std::string> creds) {
  Rogue rogue(ens.member_dir(0) / "zoo.cfg", tmp / "rogue.out", creds);
  ASSERT_TRUE(rogue.running());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ens.start(i));
  const int leader = ens.wait_for_quorum(Clock::now() + 40s);
  ASSERT_GE(leader, 0) << ens.describe();
  ASSERT_LT(leader, 3);
  {
    RawClient c(ens.client_port(leader));
    ASSERT_TRUE(c.handshake());
    ASSERT_EQ(c.create("/before", "x"), 0);
  }
  const int64_t epoch = epoch_of(ens.client_port(leader));
  ASSERT_GT(epoch, 0);
  ASSERT_LT(epoch, 1000) << "the rogue's epoch";
  // Many rounds of the attack are refused and logged by every member.
  ASSERT_TRUE(wait_until(30s, [&] {
    for (int i = 0; i < 3; ++i)
      if (count(ens.log(i), "refusing connection") < 20) return false;
    return true;
  })) << ens.describe();
  ASSERT_TRUE(rogue.running());
  EXPECT_EQ(ens.leader(), leader);
  EXPECT_EQ(epoch_of(ens.client_port(leader)), epoch);
  for (int i = 0; i < 3; ++i) {
    RawClient c(ens.client_port(i));
    ASSERT_TRUE(c.handshake()) << i;
    EXPECT_EQ(c.create("/after-" + std::to_string(i), "x"), 0) << i;
    ASSERT_TRUE(wait_until(5s, [&] { return c.exists("/before")->err == 0; }));
    for (const char* path : kRogueNodes) EXPECT_EQ(c.exists(path)->err, kNoNode) << i << path;
  }
  const std::string out = rogue.output();
  EXPECT_EQ(count(out, "FRAME"), 0u) << "a member sent the rogue frames:\n" << out.substr(0, 2000);
}

// CVE-2023-44981: quorum.auth with a shared secret; the rogue knows the account names and
// the ports, not the passwords.
TEST(QuorumSecurity, RoguePeerRefusedWithQuorumAuth) {
  TempDir tmp;
  std::ofstream(tmp.path / "jaas.conf") << R"(
Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_super="adminsecret"; };
QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required
  user_quorum="s3cret-quorum"; };
QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required
  username="quorum" password="s3cret-quorum"; };
)";
  Ensemble ens(
      four_seats("quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"
                 "quorum.auth.serverRequireSasl=true\n"
                 "java.security.auth.login.config=" +
                 (tmp.path / "jaas.conf").string() + "\n"));
  ASSERT_TRUE(ens.ok()) << ens.error();
  expect_rogue_refused(ens, tmp.path, {"--user", "quorum", "--password", "guessed"});
  EXPECT_GT(count(ens.log(0), "left during authentication"), 0u);
}

// The same with sslQuorum: the rogue presents a certificate its own CA signed.
TEST(QuorumSecurity, RoguePeerRefusedWithSslQuorum) {
  TempDir tmp;
  make_pki(tmp.path, "member");
  make_pki(tmp.path, "rogue");
  const std::string d = tmp.path.string();
  Ensemble ens(four_seats("sslQuorum=true\nssl.quorum.keyStore.location=" + d +
                          "/member.pem\nssl.quorum.trustStore.location=" + d +
                          "/member-ca.pem\nssl.quorum.hostnameVerification=true\n"));
  ASSERT_TRUE(ens.ok()) << ens.error();
  expect_rogue_refused(ens, tmp.path,
                       {"--tls-key", d + "/rogue.pem", "--tls-ca", d + "/rogue-ca.pem"});
  EXPECT_GT(count(ens.log(0), "TLS handshake failed"), 0u);
}

// The control: without quorum security the same rogue's vote counts (the members follow
// rogue 4 and send it FOLLOWERINFO), so the tests above can fail.
TEST(QuorumSecurity, ControlRogueVoteCountsWithoutSecurity) {
  TempDir tmp;
  Ensemble ens(four_seats(""));
  ASSERT_TRUE(ens.ok()) << ens.error();
  Rogue rogue(ens.member_dir(0) / "zoo.cfg", tmp.path / "rogue.out", {});
  ASSERT_TRUE(rogue.running());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ens.start(i));
  EXPECT_TRUE(wait_until(
      30s,
      [&] { return rogue.output().find("port=quorum kind=FOLLOWERINFO") != std::string::npos; }))
      << rogue.output().substr(0, 2000) << ens.describe();
}

// Resident memory of `pid` in KiB, from /proc; -1 if unreadable.
long rss_kib(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

int32_t stat_version(const std::string& stat) {
  uint32_t v = 0;
  for (int i = 32; i < 36; ++i) v = (v << 8) | static_cast<unsigned char>(stat[i]);
  return static_cast<int32_t>(v);
}

// A follower that stops reading (SIGSTOP) while the leader keeps writing is cut off once
// 1 MiB waits for it, instead of the leader queueing every txn for it; after SIGCONT it
// resyncs and has every txn.
TEST(QuorumSecurity, StoppedFollowerIsCutOffAndResyncs) {
  Ensemble::Options o;
  o.tick_ms = 200;
  o.sync_limit = 300;  // 60 s: the queue bound, not syncLimit, must be what drops it
  o.extra_cfg = "corral.quorum.sendQueueMaxBytes=1048576\nforceSync=no\n";
  o.name = "corral-qsec";
  Ensemble ens(o);
  ASSERT_TRUE(ens.ok()) << ens.error();
  ASSERT_TRUE(ens.start_all());
  const int leader = ens.wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  RawClient c(ens.client_port(leader));
  ASSERT_TRUE(c.handshake());
  ASSERT_EQ(c.create("/q", ""), 0);
  ASSERT_TRUE(ens.pause(follower));
  const long rss_before = rss_kib(ens.pid(leader));
  const std::string cut = "cutting off member " + std::to_string(follower + 1);
  std::string data(8192, 'd');
  int writes = 0, after_cut = -1;
  while (writes < 20000 && (after_cut < 0 || writes < after_cut + 500)) {
    data.replace(0, 8, std::to_string(10000000 + writes));
    ASSERT_EQ(c.set_data("/q", data), 0) << writes;
    ++writes;
    if (after_cut < 0 && writes % 100 == 0 && ens.log(leader).find(cut) != std::string::npos)
      after_cut = writes;
  }
  const long rss_after = rss_kib(ens.pid(leader));
  ASSERT_GT(after_cut, 0) << "the stopped follower was never cut off\n" << ens.describe();
  std::printf("cut off after %d writes of 8 KiB; %d writes; leader RSS %ld -> %ld KiB\n", after_cut,
              writes, rss_before, rss_after);
  // The leader keeps recent txns for DIFFs anyway (writes * 8 KiB); a queue holding them
  // all again would double that.
  EXPECT_LT(rss_after - rss_before, writes * 8 + 32 * 1024);
  ASSERT_TRUE(ens.resume(follower));
  ASSERT_TRUE(ens.wait_serving(follower, Clock::now() + 30s)) << ens.describe();
  RawClient f(ens.client_port(follower));
  ASSERT_TRUE(f.handshake());
  ASSERT_TRUE(wait_until(20s, [&] {
    auto v = f.get_data("/q");
    return v && v->err == 0 && stat_version(v->stat) == writes;
  }));
  EXPECT_EQ(f.get_data("/q")->data, data);
}

}  // namespace
}  // namespace corral::e2e
