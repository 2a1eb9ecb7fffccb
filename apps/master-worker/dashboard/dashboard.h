// corral-mw dashboard: the REST API, the event stream, the SQLite history and web/'s files
// (apps/master-worker/DESIGN.md, "The dashboard").
#pragma once

namespace corral::mw {

/// Runs `corral-mw dashboard --zk HOSTS [--port 8080] [--history PATH.db] [--web DIR]
/// [--allow-shell]` until SIGINT/SIGTERM. `argv[0]` is "dashboard" (the subcommand); the
/// options follow. Returns the process's exit status (2 on bad usage).
int run_dashboard(int argc, char** argv);

}  // namespace corral::mw
