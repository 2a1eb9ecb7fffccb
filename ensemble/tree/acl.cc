#include "ensemble/tree/acl.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "ensemble/auth/kerberos_name.h"

namespace corral::tree {
namespace {

// Parses IPv4 or IPv6 text into bytes.
std::optional<std::vector<unsigned char>> parse_address(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return std::vector<unsigned char>(buf, buf + 4);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return std::vector<unsigned char>(buf, buf + 16);
  return std::nullopt;
}

struct IpRule {
  std::vector<unsigned char> address;
  int prefix_bits;
};

std::optional<IpRule> parse_rule(std::string_view id) {
  size_t slash = id.find('/');
  auto address = parse_address(id.substr(0, slash));
  if (!address) return std::nullopt;
  int max_bits = static_cast<int>(address->size() * 8);
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string digits(id.substr(slash + 1));
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    bits = std::stoi(digits);
    if (bits > max_bits) return std::nullopt;
  }
  return IpRule{*address, bits};
}

// Whether `dn` reads as an RFC 2253 name as Java's X500Principal takes it: empty, or
// comma-separated attribute=value pairs (',' and '+' escaped with '\\' inside values).
bool x509_id_valid(std::string_view dn) {
  size_t start = 0;
  for (size_t i = 0; i <= dn.size(); ++i) {
    if (i < dn.size() && dn[i] == '\\') {
      ++i;
      continue;
    }
    if (i < dn.size() && dn[i] != ',' && dn[i] != '+') continue;
    std::string_view part = dn.substr(start, i - start);
    size_t eq = part.find('=');
    if (!dn.empty() && (eq == std::string_view::npos || part.find_first_not_of(' ') == eq)) {
      return false;
    }
    start = i + 1;
  }
  return true;
}

bool matches_id(const wire::Id& acl_id, const wire::Id& auth_id) {
  if (acl_id.scheme != auth_id.scheme) return false;
  if (acl_id.scheme == "ip") return ip_matches(acl_id.id, auth_id.id);
  // SASLAuthenticationProvider.matches: a SASL login as "super" passes every sasl entry.
  if (acl_id.scheme == "sasl") return auth_id.id == acl_id.id || auth_id.id == "super";
  return acl_id.id == auth_id.id;
}

}  // namespace

bool ip_matches(std::string_view acl_id, std::string_view address) {
  auto rule = parse_rule(acl_id);
  auto addr = parse_address(address);
  if (!rule || !addr || addr->size() != rule->address.size()) return false;
  int bits = rule->prefix_bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if (((*addr)[i] & mask) != (rule->address[i] & mask)) return false;
  }
  return true;
}

bool ip_id_valid(std::string_view acl_id) { return parse_rule(acl_id).has_value(); }

bool acl_allows(const wire::AclList& acl, int32_t perm, const AuthIds& ids) {
  if (acl.empty()) return true;
  for (const auto& id : ids)
    if (id.scheme == "super") return true;
  for (const auto& entry : acl) {
    if ((entry.perms & perm) == 0) continue;
    if (entry.id.scheme == "world" && entry.id.id == "anyone") return true;
    for (const auto& id : ids)
      if (matches_id(entry.id, id)) return true;
  }
  return false;
}

wire::ErrorCode fixup_acl(const wire::AclList& in, const AuthIds& ids, wire::AclList& out) {
  out.clear();
  wire::AclList unique;
  for (const auto& a : in)
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  if (unique.empty()) return wire::ErrorCode::kInvalidAcl;
  for (const auto& a : unique) {
    if (a.id.scheme == "world" && a.id.id == "anyone") {
      out.push_back(a);
    } else if (a.id.scheme == "auth") {
      // Only identities proved by a secret count; an ip identity is not "authenticated".
      bool any = false;
      for (const auto& id : ids) {
        if (id.scheme != "digest" && id.scheme != "sasl" && id.scheme != "x509") continue;
        out.push_back({a.perms, id});
        any = true;
      }
      if (!any) return wire::ErrorCode::kInvalidAcl;
    } else if (a.id.scheme == "digest") {
      // Java's id.split(":") must give two parts: "u:h" and ":h" pass, "u:" does not.
      if (std::count(a.id.id.begin(), a.id.id.end(), ':') != 1 || a.id.id.back() == ':')
        return wire::ErrorCode::kInvalidAcl;
      out.push_back(a);
    } else if (a.id.scheme == "sasl") {
      // SASLAuthenticationProvider.isValid: the id must read as a Kerberos principal.
      if (!auth::parse_kerberos_name(a.id.id)) return wire::ErrorCode::kInvalidAcl;
      out.push_back(a);
    } else if (a.id.scheme == "x509") {
      // X509AuthenticationProvider.isValid: the id must read as an X.500 name.
      if (!x509_id_valid(a.id.id)) return wire::ErrorCode::kInvalidAcl;
      out.push_back(a);
    } else if (a.id.scheme == "ip") {
      if (!ip_id_valid(a.id.id)) return wire::ErrorCode::kInvalidAcl;
      out.push_back(a);
    } else {
      return wire::ErrorCode::kInvalidAcl;
    }
  }
  return wire::ErrorCode::kOk;
}

std::string digest_of(std::string_view user_password) {
  unsigned char hash[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(user_password.data()), user_password.size(), hash);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  EVP_EncodeBlock(b64, hash, SHA_DIGEST_LENGTH);
  std::string_view user = user_password.substr(0, user_password.find(':'));
  return std::string(user) + ":" + reinterpret_cast<char*>(b64);
}

}  // namespace corral::tree
