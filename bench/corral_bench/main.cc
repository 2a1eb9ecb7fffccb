// corral-bench: drives any ZooKeeper-compatible ensemble with Corral's client and reports
// throughput, exact latency percentiles and the servers' CPU per workload. See usage().
#include <unistd.h>

#include <asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "bench/corral_bench/fanout.h"
#include "bench/corral_bench/runner.h"

namespace {

using namespace corral::bench;

void warn_cleanup(const std::string& what, const ErrorCounts& errors) {
  for (const auto& [code, n] : errors) {
    std::cerr << "corral-bench: cleanup of " << what << ": " << n << " x "
              << corral::client::error_text(code) << "\n";
  }
}

/// Runs one workload from prepare to cleanup; nothing when it could not be prepared.
std::optional<WorkloadResult> run_workload(const std::string& name, Context& ctx,
                                           const std::vector<WorkloadResult>& done) {
  RunOutcome out;
  std::unique_ptr<Workload> w;
  std::optional<std::string> err;
  if (name == "watch") {
    err = prepare_fanout(ctx);
  } else {
    w = make_workload(name, ctx);
    err = w->prepare();
  }
  if (err) {
    std::cerr << "corral-bench: preparing " << name << ": " << *err << "\n";
    return std::nullopt;
  }
  // Sessions on followers must see what was prepared before their first read. One whose server
  // is gone cannot sync; its operations fail and are counted, so the run goes on.
  if (auto unsynced = ctx.pool.sync_all(ctx.dir))
    std::cerr << "corral-bench: " << *unsynced << "\n";
  out = w ? run_lanes(name, *w, ctx) : run_fanout(ctx);
  if (!out.usage_error.empty()) std::cerr << "corral-bench: " << out.usage_error << "\n";
  if (out.stuck) {
    auto all = done;
    all.push_back(out.result);
    print_table(std::cerr, ctx.options, all);
    std::cerr << "corral-bench: " << name << ": operations never completed; giving up\n";
    std::fflush(nullptr);
    std::_Exit(1);  // lanes may still run: no destructor may pull their state away
  }
  if (w && !ctx.options.keep) warn_cleanup(name, w->cleanup(out.issued));
  return out.result;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (auto* err = std::get_if<ParseError>(&parsed)) {
    if (err->help) {
      std::cout << err->message;
      return 0;
    }
    std::cerr << "corral-bench: " << err->message << "\n\n" << usage();
    return 2;
  }
  const Options& o = std::get<Options>(parsed);
  SessionPool pool(o);
  if (auto err = pool.connect()) {
    std::cerr << "corral-bench: " << *err << "\n";
    return 1;
  }
  auto& first = *pool.clients()[0];
  auto stamp = std::chrono::system_clock::now().time_since_epoch() / std::chrono::milliseconds(1);
  Context ctx{o, pool, o.root + "/r" + std::to_string(getpid()) + "-" + std::to_string(stamp),
              std::string(static_cast<size_t>(o.value_size), 'x')};
  for (const auto& path : {o.root, ctx.dir}) {
    if (auto e = ensure_node(first, path); e != corral::client::ErrorCode::kOk) {
      std::cerr << "corral-bench: creating " << path << ": " << corral::client::error_text(e)
                << "\n";
      return 1;
    }
  }
  std::vector<WorkloadResult> results;
  int status = 0;
  for (const auto& name : o.workloads) {
    auto r = run_workload(name, ctx, results);
    if (!r) {
      status = 1;
      break;
    }
    results.push_back(std::move(*r));
    if (results.back().error_total() && status == 0) status = 3;
  }
  if (!o.keep) {
    warn_cleanup(ctx.dir, remove_tree(first, ctx.dir));
    // Other runs may share the root: only an empty one goes.
    first.remove(o.root, -1, asio::use_future).get();
  }
  pool.close();
  if (o.json) print_json(std::cout, o, results);
  print_table(o.json ? std::cerr : std::cout, o, results);
  return status;
}
