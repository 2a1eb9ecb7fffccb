#include "client/cli/config_commands.h"

#include <algorithm>
#include <cctype>

#include "client/cli/commands.h"
#include "client/cli/dynamic_config.h"
#include "client/cli/watching.h"

namespace corral::cli {
namespace {

using nlohmann::json;

constexpr const char* kConfigNode = "/zookeeper/config";

int usage_error(Context& ctx, const Invocation& inv, std::string_view problem) {
  ctx.out.usage_error(inv.spec, inv.spec->name, problem);
  return kExitUsage;
}

// zkCli lower-cases every -add, -remove and -members value (ReconfigCommand.parse).
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// What the flags of `reconfig` ask for, or why they cannot: ReconfigCommand.parse's checks,
// in its order and with its words.
std::string reconfig_spec(const Invocation& inv, client::ReconfigSpec& spec) {
  bool whole = inv.has('f') || inv.has('m');
  bool incremental = inv.has('a') || inv.has('r');
  if (!whole && !incremental) return "give -file, -members, -add or -remove";
  if (whole && incremental) {
    return "Can't use -file or -members together with -add or -remove (mixing incremental and "
           "non-incremental modes is not allowed)";
  }
  if (inv.has('f') && inv.has('m')) {
    return "Can't use -file and -members together (conflicting non-incremental modes)";
  }
  spec.from_config = inv.value('v', -1);
  if (inv.has('a')) spec.joining = lower(inv.text('a'));
  if (inv.has('r')) spec.leaving = lower(inv.text('r'));
  if (inv.has('m')) spec.members = lower(inv.text('m'));
  if (inv.has('f')) {
    MembersFile file = read_members_file(inv.text('f'));
    if (!file.ok()) return file.error;
    spec.members = file.members;
  }
  return "";
}

json config_json(const client::DataResult& r) {
  return {{"config", r.data}, {"version", config_version(r.data)}, {"stat", stat_json(r.stat)}};
}

}  // namespace

int config_command(Context& ctx, const Invocation& inv) {
  auto r = ctx.client.get_config(inv.has('w') ? one_shot_watcher(ctx) : nullptr);
  if (!r) {
    ctx.out.error("config", kConfigNode, r.error());
    return kExitZooKeeperError;
  }
  std::string text = (inv.has('c') ? client_config_text(r->data) : r->data) + "\n";
  if (inv.has('s')) text += stat_text(r->stat);
  json value = config_json(*r);
  if (inv.has('c')) value["client"] = client_config_text(r->data);
  ctx.out.result(text, value);
  return inv.has('w') ? wait_for_watch_event(ctx, kConfigNode) : kExitOk;
}

int reconfig_command(Context& ctx, const Invocation& inv) {
  client::ReconfigSpec spec;
  if (std::string problem = reconfig_spec(inv, spec); !problem.empty())
    return usage_error(ctx, inv, problem);
  auto r = ctx.client.reconfig(std::move(spec));
  if (!r) {
    ctx.out.error("reconfig", "", r.error());
    return kExitZooKeeperError;
  }
  std::string text = "Committed new configuration:\n" + r->data + "\n";
  if (inv.has('s')) text += stat_text(r->stat);
  ctx.out.result(text, config_json(*r));
  return kExitOk;
}

}  // namespace corral::cli
