#include "client/cli/commands.h"

#include <algorithm>

#include "client/cli/acl_text.h"
#include "client/cli/config_commands.h"
#include "client/cli/tree.h"
#include "client/cli/watching.h"
#include "wire/path.h"

namespace corral::cli {
namespace {

using client::CreateMode;
using client::ErrorCode;
using nlohmann::json;

// "get /x": what error messages name.
std::string what(const Invocation& inv) {
  std::string s(inv.spec->name);
  if (!inv.args.empty()) s += " " + inv.args[0];
  return s;
}

int fail(Context& ctx, const Invocation& inv, ErrorCode err, const std::string& path) {
  ctx.out.error(std::string(inv.spec->name) + " " + path, path, err);
  return kExitZooKeeperError;
}

int bad_usage(Context& ctx, const Invocation& inv, std::string_view problem) {
  ctx.out.usage_error(inv.spec, what(inv), problem);
  return kExitUsage;
}

// True if the command's first argument is a path.
bool takes_path(const CommandSpec& spec) {
  return spec.args.rfind("path", 0) == 0 || spec.args.rfind("[path]", 0) == 0;
}

int ls(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  if (inv.has('R')) {
    if (inv.has('w') || inv.has('s')) return bad_usage(ctx, inv, "-R cannot be used with -w or -s");
    TreeWalk walk = list_subtree(ctx.client, path);
    if (walk.err != ErrorCode::kOk) return fail(ctx, inv, walk.err, walk.failed_path);
    std::string text;
    for (const std::string& p : walk.paths) text += p + "\n";
    ctx.out.result(text, {{"path", path}, {"paths", walk.paths}});
    return kExitOk;
  }
  auto r = ctx.client.children(path, inv.has('w') ? one_shot_watcher(ctx) : nullptr);
  if (!r) return fail(ctx, inv, r.error(), path);
  std::vector<std::string> children = r->children;
  std::sort(children.begin(), children.end());
  std::string text = list_text(children) + "\n";
  if (inv.has('s')) text += stat_text(r->stat);
  ctx.out.result(text, {{"path", path}, {"children", children}, {"stat", stat_json(r->stat)}});
  return inv.has('w') ? wait_for_watch_event(ctx, path) : kExitOk;
}

int get(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.get(path, inv.has('w') ? one_shot_watcher(ctx) : nullptr);
  if (!r) return fail(ctx, inv, r.error(), path);
  std::string text = r->data + "\n";
  if (inv.has('s')) text += stat_text(r->stat);
  ctx.out.result(text, {{"path", path}, {"data", r->data}, {"stat", stat_json(r->stat)}});
  return inv.has('w') ? wait_for_watch_event(ctx, path) : kExitOk;
}

int stat(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.exists(path, inv.has('w') ? one_shot_watcher(ctx) : nullptr);
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result(stat_text(*r), {{"path", path}, {"stat", stat_json(*r)}});
  return inv.has('w') ? wait_for_watch_event(ctx, path) : kExitOk;
}

int set(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.set(path, inv.args[1], static_cast<int32_t>(inv.value('v', -1)));
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result(inv.has('s') ? stat_text(*r) : "", {{"path", path}, {"stat", stat_json(*r)}});
  return kExitOk;
}

// The create mode the flags ask for, or nullopt with the reason in `problem`.
std::optional<CreateMode> create_mode(const Invocation& inv, std::string& problem) {
  bool e = inv.has('e'), s = inv.has('s'), c = inv.has('c'), t = inv.has('t');
  if (c && (e || s || t)) {
    problem = "-c cannot be combined with -e, -s or -t";
    return std::nullopt;
  }
  if (t && e) {
    problem = "-t cannot be combined with -e";
    return std::nullopt;
  }
  if (c) return CreateMode::kContainer;
  if (t) return s ? CreateMode::kPersistentSequentialWithTtl : CreateMode::kPersistentWithTtl;
  if (e) return s ? CreateMode::kEphemeralSequential : CreateMode::kEphemeral;
  return s ? CreateMode::kPersistentSequential : CreateMode::kPersistent;
}

int create(Context& ctx, const Invocation& inv) {
  std::string problem;
  std::optional<CreateMode> mode = create_mode(inv, problem);
  if (!mode) return bad_usage(ctx, inv, problem);
  client::AclList acl = client::open_acl_unsafe();
  if (inv.args.size() > 2) {
    AclParse parsed = parse_acl(inv.args[2]);
    if (!parsed.ok()) return bad_usage(ctx, inv, parsed.error);
    acl = parsed.acl;
  }
  const std::string& path = inv.args[0];
  auto r = ctx.client.create(path, inv.arg(1), *mode, acl, inv.value('t', -1));
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result("Created " + r->path + "\n", {{"path", r->path}, {"stat", stat_json(r->stat)}});
  return kExitOk;
}

int remove(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.remove(path, static_cast<int32_t>(inv.value('v', -1)));
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result("", {{"path", path}, {"deleted", 1}});
  return kExitOk;
}

int delete_all(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  TreeWalk walk = delete_subtree(ctx.client, path);
  if (walk.err != ErrorCode::kOk) return fail(ctx, inv, walk.err, walk.failed_path);
  ctx.out.result("", {{"path", path}, {"deleted", walk.paths.size()}});
  return kExitOk;
}

int get_acl(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.get_acl(path);
  if (!r) return fail(ctx, inv, r.error(), path);
  std::string text = acl_text(r->acl);
  if (inv.has('s')) text += stat_text(r->stat);
  ctx.out.result(text, {{"path", path}, {"acl", acl_json(r->acl)}, {"stat", stat_json(r->stat)}});
  return kExitOk;
}

int set_acl(Context& ctx, const Invocation& inv) {
  AclParse parsed = parse_acl(inv.args[1]);
  if (!parsed.ok()) return bad_usage(ctx, inv, parsed.error);
  const std::string& path = inv.args[0];
  auto r = ctx.client.set_acl(path, parsed.acl, static_cast<int32_t>(inv.value('v', -1)));
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result(inv.has('s') ? stat_text(*r) : "", {{"path", path}, {"stat", stat_json(*r)}});
  return kExitOk;
}

int add_auth(Context& ctx, const Invocation& inv) {
  auto r = ctx.client.add_auth(inv.args[0], inv.args[1]);
  if (!r) {
    ctx.out.error("addauth " + inv.args[0], "", r.error());
    return kExitZooKeeperError;
  }
  ctx.out.result("", {{"scheme", inv.args[0]}});
  return kExitOk;
}

int sync(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.sync(path);
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result("Sync is OK\n", {{"path", path}, {"synced", true}});
  return kExitOk;
}

int who_am_i(Context& ctx, const Invocation& inv) {
  auto r = ctx.client.who_am_i();
  if (!r) {
    ctx.out.error("whoami", "", r.error());
    return kExitZooKeeperError;
  }
  std::string text = "Auth scheme: User\n";
  json identities = json::array();
  for (const client::Identity& id : *r) {
    text += id.scheme + ": " + id.id + "\n";
    identities.push_back({{"scheme", id.scheme}, {"id", id.id}});
  }
  ctx.out.result(text, {{"identities", identities}});
  return kExitOk;
}

int get_ephemerals(Context& ctx, const Invocation& inv) {
  std::string path = inv.arg(0, "/");
  auto r = ctx.client.ephemerals(path);
  if (!r) return fail(ctx, inv, r.error(), path);
  std::vector<std::string> paths = *r;
  std::sort(paths.begin(), paths.end());
  ctx.out.result(list_text(paths) + "\n", {{"path", path}, {"ephemerals", paths}});
  return kExitOk;
}

int descendant_count(Context& ctx, const Invocation& inv) {
  const std::string& path = inv.args[0];
  auto r = ctx.client.descendant_count(path);
  if (!r) return fail(ctx, inv, r.error(), path);
  ctx.out.result(std::to_string(*r) + "\n", {{"path", path}, {"count", *r}});
  return kExitOk;
}

int help(Context& ctx) {
  json commands = json::array();
  for (const CommandSpec& spec : command_table()) commands.push_back(usage(spec));
  ctx.out.result(help_text(), {{"commands", commands}});
  return kExitOk;
}

int dispatch(Context& ctx, const Invocation& inv) {
  switch (inv.spec->id) {
    case CommandId::kLs:
      return ls(ctx, inv);
    case CommandId::kGet:
      return get(ctx, inv);
    case CommandId::kSet:
      return set(ctx, inv);
    case CommandId::kCreate:
      return create(ctx, inv);
    case CommandId::kDelete:
      return remove(ctx, inv);
    case CommandId::kDeleteAll:
      return delete_all(ctx, inv);
    case CommandId::kStat:
      return stat(ctx, inv);
    case CommandId::kGetAcl:
      return get_acl(ctx, inv);
    case CommandId::kSetAcl:
      return set_acl(ctx, inv);
    case CommandId::kAddAuth:
      return add_auth(ctx, inv);
    case CommandId::kSync:
      return sync(ctx, inv);
    case CommandId::kWhoAmI:
      return who_am_i(ctx, inv);
    case CommandId::kWatch:
      return watch_command(ctx, inv.args[0], inv.has('R'));
    case CommandId::kGetEphemerals:
      return get_ephemerals(ctx, inv);
    case CommandId::kGetAllChildrenNumber:
      return descendant_count(ctx, inv);
    case CommandId::kConfig:
      return config_command(ctx, inv);
    case CommandId::kReconfig:
      return reconfig_command(ctx, inv);
    case CommandId::kHelp:
      return help(ctx);
    case CommandId::kQuit:
      return kExitOk;
  }
  return kExitUsage;
}

}  // namespace

int run_command(Context& ctx, const Invocation& inv) {
  if (takes_path(*inv.spec) && !inv.args.empty()) {
    bool sequential = inv.spec->id == CommandId::kCreate && inv.has('s');
    std::string problem = wire::validate_path(inv.args[0], sequential);
    if (!problem.empty()) return bad_usage(ctx, inv, "invalid path: " + problem);
  }
  return dispatch(ctx, inv);
}

}  // namespace corral::cli
