// ZooKeeper's access control: schemes world, auth, digest, ip, sasl, x509 and super.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::tree {

/// The identities a session has authenticated as (always including its "ip" id).
using AuthIds = std::vector<wire::Id>;

/// True when `ids` may perform `perm` on a node with `acl` (an empty ACL allows
/// everything; a "super" identity passes every check).
bool acl_allows(const wire::AclList& acl, int32_t perm, const AuthIds& ids);

/// ZooKeeper's fixupACL: removes duplicates, expands "auth" entries to the
/// session's authenticated ids, and validates schemes. Returns kInvalidAcl on
/// an empty list, an unknown scheme, a malformed id, or "auth" without an
/// authenticated identity.
wire::ErrorCode fixup_acl(const wire::AclList& in, const AuthIds& ids, wire::AclList& out);

/// "user:password" -> "user:base64(sha1(user:password))", as DigestAuthenticationProvider does.
std::string digest_of(std::string_view user_password);

/// True when `address` (dotted IPv4 or IPv6 text) matches an ip-scheme ACL id
/// ("10.0.0.1" or "10.0.0.0/8").
bool ip_matches(std::string_view acl_id, std::string_view address);

/// True when `acl_id` is a well-formed ip-scheme id.
bool ip_id_valid(std::string_view acl_id);

}  // namespace corral::tree
