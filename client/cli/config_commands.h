// The commands on the ensemble's config: `config` (getConfig) and `reconfig`, with zkCli's
// flags, rules and output.
#pragma once

#include "client/cli/args.h"
#include "client/cli/context.h"

namespace corral::cli {

/// `config [-c] [-w] [-s]`: prints /zookeeper/config (or, with -c, "version host:port,...").
int config_command(Context& ctx, const Invocation& inv);

/// `reconfig [-s] [-v hexversion] [-file path | -members list] | [-add list] [-remove ids]`:
/// prints "Committed new configuration:" and the new config text.
int reconfig_command(Context& ctx, const Invocation& inv);

}  // namespace corral::cli
