// The clients of a nemesis run, each a thread in the root namespace with Corral's client:
//   - register clients: compare-and-set (getData, then setData with the version read) and
//     reads after sync, on a few registers; recorded in an e2e::History plus CasRecords;
//   - a sequence client: PERSISTENT_SEQUENTIAL creates under one parent (SeqCreates).
// Every value written is unique, as history.h requires. A client whose call missed its
// deadline or whose session expired goes on as a new client (a new session).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/history.h"
#include "tests/nemesis/checks.h"

namespace corral::nemesis {

/// The registers' paths and the sequential parent.
constexpr const char* kRegisterRoot = "/reg";
constexpr const char* kSequenceRoot = "/seq";
constexpr int kRegisters = 3;

/// "/reg/r<i>".
std::string register_path(int i);

/// What the clients did, shared by the workers.
struct Recorder {
  e2e::History history;
  std::mutex mu;
  std::vector<CasRecord> cas;
  std::vector<SeqCreate> creates;
  /// A new client number (history.h's client: one session).
  int next_client() { return ++clients; }
  std::atomic<int> clients{0};
};

/// Register and sequence clients until stop().
class Workload {
 public:
  /// Creates the parents and the registers (recorded as creates by client 0); false if the
  /// ensemble did not take them.
  static bool setup(const std::string& connect_string, Recorder& rec, std::string* error);

  /// Starts `register_clients` register threads and one sequence thread, seeded by `seed`.
  Workload(std::string connect_string, Recorder& rec, uint64_t seed, int register_clients);
  /// Stops and joins the threads.
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  /// Asks every thread to stop and waits for them.
  void stop();

 private:
  void register_loop(uint64_t seed);
  void sequence_loop(uint64_t seed);

  std::string connect_;
  Recorder& rec_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace corral::nemesis
