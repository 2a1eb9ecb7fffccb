#include "ensemble/server/startup_membership.h"

#include <spdlog/fmt/fmt.h>

namespace corral::server {
namespace {

constexpr const char* kDatabase = "the database";

// A stored row as a config; its text must parse and carry the row's version.
std::variant<zab::QuorumConfig, std::string> row_config(const storage::StoredQuorumConfig& row,
                                                        const char* slot) {
  auto parsed = zab::parse_dynamic(row.text);
  auto* config = std::get_if<zab::QuorumConfig>(&parsed);
  if (!config || config->version != row.version)
    return fmt::format("{}'s {} quorum config (version 0x{:x}) is damaged: '{}'", kDatabase, slot,
                       row.version, row.text);
  return *config;
}

// A config's text on one line, for a one-line message.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

}  // namespace

std::variant<StartupMembership, std::string> startup_membership(
    const BootstrapConfig& bootstrap, const std::optional<storage::StoredQuorumConfig>& active_row,
    const std::optional<storage::StoredQuorumConfig>& next_row, bool reconfig_enabled,
    int64_t my_id) {
  StartupMembership out;
  const zab::QuorumConfig& file = bootstrap.config;
  out.active = std::make_shared<const zab::QuorumConfig>(file);
  out.active_source = bootstrap.source;
  if (!reconfig_enabled) {
    if (active_row && active_row->text != file.text())
      out.notices.push_back(fmt::format(
          "reconfigEnabled=false: using the members of {} (version 0x{:x}), not those {} holds "
          "from a reconfig (version 0x{:x})",
          bootstrap.source, file.version, kDatabase, active_row->version));
    if (file.role_of(my_id) == zab::QuorumRole::kAbsent)
      return fmt::format("{}: myid {} is not one of the server.N lines", bootstrap.source, my_id);
    return out;
  }
  if (active_row) {
    auto stored = row_config(*active_row, "active");
    if (auto* error = std::get_if<std::string>(&stored)) return *error;
    const auto& row = std::get<zab::QuorumConfig>(stored);
    if (row.version == file.version && row.text() != file.text())
      return fmt::format(
          "{} and {} hold different members at the same version 0x{:x}: {} has '{}', {} has "
          "'{}'",
          bootstrap.source, kDatabase, file.version, bootstrap.source, one_line(file.text()),
          kDatabase, one_line(row.text()));
    if (row.version > file.version) {
      out.active = std::make_shared<const zab::QuorumConfig>(row);
      out.active_source = kDatabase;
      out.notices.push_back(fmt::format(
          "using the members {} holds (version 0x{:x}): newer than those of {} (version 0x{:x})",
          kDatabase, row.version, bootstrap.source, file.version));
    }
  }
  if (next_row && next_row->version > out.active->version) {
    auto stored = row_config(*next_row, "next");
    if (auto* error = std::get_if<std::string>(&stored)) return *error;
    out.last_seen = std::make_shared<const zab::QuorumConfig>(std::get<zab::QuorumConfig>(stored));
    out.notices.push_back(
        fmt::format("a reconfig to version 0x{:x} is pending", out.last_seen->version));
  }
  if (out.active->role_of(my_id) == zab::QuorumRole::kAbsent)
    out.notices.push_back(fmt::format(
        "server {} is not a member of config version 0x{:x} ({}): it starts as a non-voting "
        "follower",
        my_id, out.active->version, out.active_source));
  return out;
}

}  // namespace corral::server
