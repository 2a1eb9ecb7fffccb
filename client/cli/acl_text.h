// ACLs as zkCli writes them: "world:anyone:cdrwa,digest:user:hash:r,ip:127.0.0.1:rw".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "corral/client/types.h"

namespace corral::cli {

/// An ACL list read from zkCli's notation, or the reason it could not be read.
struct AclParse {
  client::AclList acl;
  /// Empty when `acl` is valid.
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Reads "scheme:id:perms[,scheme:id:perms...]". The id runs from the first colon to the
/// last, so digest ids ("user:hash") and "auth::cdrwa" (an empty id) work.
AclParse parse_acl(std::string_view text);

/// Permission letters ("cdrwa", any order) as ZooDefs.Perms bits; -1 for an unknown letter.
int32_t parse_perms(std::string_view letters);

/// Permission bits as zkCli prints them, always in the order c, d, r, w, a.
std::string perm_string(int32_t perms);

/// One ACL entry in the notation parse_acl reads ("digest:user:hash:r").
std::string acl_string(const client::Acl& acl);

}  // namespace corral::cli
