// compat_driver HOST:PORT SCENARIO [SEED]
//
// Runs one scenario through Apache ZooKeeper's C client and prints a canonical transcript:
// one line per operation with its arguments, return code name and results, leaving out
// everything that differs between two correct servers (session ids, times, absolute zxids).
// run_compat.sh runs it against Apache ZooKeeper and against the server under test and
// diffs the transcripts.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <string>

#include "scenarios.h"

namespace {

using corral::compat::ScenarioFn;

const std::map<std::string, ScenarioFn>& scenarios() {
  using namespace corral::compat;
  static const std::map<std::string, ScenarioFn> all = {
      {"basic", scenario_basic},
      {"sequential", scenario_sequential},
      {"multi", scenario_multi},
      {"watches", scenario_watches},
      {"persistent", scenario_persistent},
      {"acl", scenario_acl},
      {"ephemeral", scenario_ephemeral},
      {"container", scenario_container},
      {"ttl", scenario_ttl},
      {"random", scenario_random},
      {"watch_acl", scenario_watch_acl},
  };
  return all;
}

int usage() {
  std::cerr << "usage: compat_driver HOST:PORT SCENARIO [SEED]\n       compat_driver --list\n"
            << "scenarios:";
  for (const auto& [name, fn] : scenarios()) std::cerr << ' ' << name;
  std::cerr << '\n';
  return 64;
}

/// Removes what an earlier run of the scenario left, as the super user if the server has a
/// super digest configured (ACL scenarios leave nodes nobody else may list).
void remove_leftovers(const std::string& hosts, const std::string& root) {
  corral::compat::ZkSession s("cleanup", hosts, 10000);
  if (s.zh() == nullptr || !s.wait_connected(std::chrono::seconds(15))) {
    throw std::runtime_error("cannot connect to " + hosts);
  }
  const char super_cert[] = "super:superpw";
  zoo_add_auth(s.zh(), "digest", super_cert, sizeof super_cert - 1, nullptr, nullptr);
  std::ostream null_out(nullptr);
  corral::compat::Driver quiet(hosts, null_out);
  quiet.cleanup(s, root);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, fn] : scenarios()) std::cout << name << '\n';
    return 0;
  }
  if (argc < 3 || argc > 4) return usage();
  auto it = scenarios().find(argv[2]);
  if (it == scenarios().end()) return usage();
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zoo_deterministic_conn_order(1);

  corral::compat::ScenarioArgs args;
  args.hosts = argv[1];
  args.root = std::string("/compat-") + argv[2];
  args.seed = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : 1;
  try {
    remove_leftovers(args.hosts, args.root);
    corral::compat::Driver driver(args.hosts, std::cout);
    driver.line("scenario " + it->first);
    it->second(driver, args);
    driver.line("end");
  } catch (const std::exception& e) {
    std::cout << "ERROR " << e.what() << std::endl;
    std::cerr << "compat_driver: " << e.what() << std::endl;
    return 2;
  }
  return 0;
}
