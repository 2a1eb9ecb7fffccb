// Creating a recipe's parent nodes (internal).
#pragma once

#include <string>

#include "coro.h"

namespace corral::recipes::detail {

/// Makes sure `path` and its ancestors exist: missing ones are created as containers (the
/// server removes them once empty, so recipes leave no litter), or as persistent nodes
/// when the server has no containers. Retries connection losses. kOk when it exists.
awaitable<ErrorCode> ensure_path(Client& client, std::string path, bool container = true);

/// Creates `path` (mode, data) after making sure its parent exists; the Result of the create
/// (ZNODEEXISTS passed through). Retries connection losses for non-sequential persistent
/// nodes only (their create is idempotent: a lost reply shows up as ZNODEEXISTS).
awaitable<Result<client::CreateResult>> create_with_parents(Client& client, std::string path,
                                                            std::string data,
                                                            client::CreateMode mode);

/// create_protected (a lost reply is found, not duplicated) after making sure the parent exists.
awaitable<Result<client::CreateResult>> create_protected_with_parents(Client& client,
                                                                      std::string path,
                                                                      std::string data,
                                                                      client::CreateMode mode);

/// Creates the ephemeral node `path` with `data` (and its parents), retried after a
/// connection loss; a retry that finds the node owned by this session takes it as its own (a
/// plain ephemeral name has no protected prefix to recognise it by). ZNODEEXISTS when another
/// session owns it.
awaitable<ErrorCode> create_own_ephemeral(Client& client, const std::string& path,
                                          const std::string& data);

}  // namespace corral::recipes::detail
