// corral-admin digest: asks every member for the digest of its tree (4lw dgst) and compares
// members that stand at the same zxid. Members apply the same txns in the same order, so at
// equal zxids their trees must be equal; at different zxids nothing can be concluded, and
// under writes the members are asked again until they meet.
#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "ensemble/admin_tool/commands.h"
#include "ensemble/admin_tool/four_letter_query.h"

namespace corral::admin {
namespace {

using Clock = std::chrono::steady_clock;

/// One member's answer.
struct Answer {
  std::string error;  ///< why there is no digest
  std::string zxid;
  std::string digest;
  std::string nodes;
};

Answer parse(const std::string& text) {
  Answer a;
  std::istringstream in(text);
  std::string key, value;
  while (std::getline(in, key, '\t') && std::getline(in, value)) {
    if (key == "zk_zxid") a.zxid = value;
    if (key == "zk_digest") a.digest = value;
    if (key == "zk_znode_count") a.nodes = value;
  }
  if (a.zxid.empty() || a.digest.empty()) {
    // "dgst is not executed because it is not in the whitelist.", "This ZooKeeper instance
    // is not currently serving requests", or a server that does not know dgst.
    a.error = text.empty() ? "no answer to dgst" : text.substr(0, text.find('\n'));
  }
  return a;
}

// Every member at once, so that writes between the answers are as few as possible.
std::vector<Answer> ask_all(const std::vector<Endpoint>& members,
                            std::chrono::milliseconds deadline) {
  std::vector<std::future<Answer>> pending;
  for (const auto& m : members)
    pending.push_back(std::async(std::launch::async, [m, deadline] {
      std::string error;
      auto text = four_letter_query(m, "dgst", deadline, error);
      return text ? parse(*text) : Answer{error, {}, {}, {}};
    }));
  std::vector<Answer> out;
  for (auto& p : pending) out.push_back(p.get());
  return out;
}

void print(const std::vector<Endpoint>& members, const std::vector<Answer>& answers) {
  for (size_t i = 0; i < members.size(); ++i) {
    const Answer& a = answers[i];
    if (!a.error.empty())
      std::printf("  %s: %s\n", members[i].text().c_str(), a.error.c_str());
    else
      std::printf("  %s: zxid %s digest %s (%s nodes)\n", members[i].text().c_str(), a.zxid.c_str(),
                  a.digest.c_str(), a.nodes.c_str());
  }
}

// True when two members at the same zxid hold different digests (that zxid goes to `zxid`).
bool disagreement(const std::vector<Answer>& answers, std::string& zxid) {
  std::map<std::string, std::string> digest_at;
  for (const auto& a : answers) {
    auto [it, added] = digest_at.emplace(a.zxid, a.digest);
    if (!added && it->second != a.digest) {
      zxid = a.zxid;
      return true;
    }
  }
  return false;
}

// Fills `members` and `timeout_ms` from the arguments; false (after saying why) if unusable.
bool parse_args(const std::vector<std::string>& args, std::vector<Endpoint>& members,
                long& timeout_ms) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--timeout-ms") {
      timeout_ms = option_value(args, i);
      if (timeout_ms >= 1) continue;
      std::fputs("corral-admin digest: --timeout-ms needs a positive number\n", stderr);
      return false;
    }
    std::istringstream list(args[i]);
    for (std::string item; std::getline(list, item, ',');) {
      auto e = parse_endpoint(item);
      if (!e) {
        std::fprintf(stderr, "corral-admin digest: '%s' is not HOST:PORT\n", item.c_str());
        return false;
      }
      members.push_back(*e);
    }
  }
  if (!members.empty()) return true;
  std::fputs("usage: corral-admin digest HOST:PORT,... [--timeout-ms N]\n", stderr);
  return false;
}

// The verdict on one round, printed with every answer; nullopt while the members stand at
// different zxids and agree where they meet (ask again).
std::optional<int> judge(const std::vector<Endpoint>& members, const std::vector<Answer>& answers,
                         int round) {
  std::string zxid;
  bool unanswered =
      std::any_of(answers.begin(), answers.end(), [](const Answer& a) { return !a.error.empty(); });
  bool common = std::all_of(answers.begin(), answers.end(),
                            [&](const Answer& a) { return a.zxid == answers.front().zxid; });
  int verdict = kOk;
  if (unanswered) {
    std::printf("cannot compare: a member has no digest\n");
    verdict = kProblem;
  } else if (disagreement(answers, zxid)) {
    std::printf("DIFFER: members at zxid %s hold different trees\n", zxid.c_str());
    verdict = kProblem;
  } else if (common) {
    std::printf("AGREE: %zu members at zxid %s, digest %s (round %d)\n", members.size(),
                answers.front().zxid.c_str(), answers.front().digest.c_str(), round);
  } else {
    return std::nullopt;
  }
  print(members, answers);
  return verdict;
}

}  // namespace

int run_digest(const std::vector<std::string>& args) {
  std::vector<Endpoint> members;
  long timeout_ms = 10000;
  if (!parse_args(args, members, timeout_ms)) return kUsage;
  constexpr std::chrono::milliseconds kPause{20};
  auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int round = 1;; ++round) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    std::vector<Answer> answers = ask_all(members, std::max(left, std::chrono::milliseconds(1)));
    if (std::optional<int> verdict = judge(members, answers, round)) return *verdict;
    if (Clock::now() + kPause >= end) {
      std::printf(
          "INCONCLUSIVE: the members stood at different zxids in all %d rounds (writes in "
          "progress); those at equal zxids agree\n",
          round);
      print(members, answers);
      return kInconclusive;
    }
    std::this_thread::sleep_for(kPause);
  }
}

}  // namespace corral::admin
