// A connect string: "host:port,host:port[/chroot]", hosts in random order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::client {

/// One server to try.
struct HostPort {
  std::string host;
  /// 1 to 65535, checked when the connect string was parsed.
  uint16_t port = 0;

  /// "host:port", an IPv6 address in brackets ("[::1]:2181") as a connect string writes it.
  std::string text() const;
};

/// What a connect string says.
struct ConnectString {
  std::vector<HostPort> hosts;
  /// "" or "/a/b" (no trailing slash).
  std::string chroot;
};

/// Parses a connect string; throws std::invalid_argument naming what is wrong.
ConnectString parse_connect_string(const std::string& text);

/// Adds the chroot to a path the user gave ("/" maps to the chroot itself).
std::string with_chroot(const std::string& chroot, const std::string& path);
/// Removes the chroot from a path the server sent (the chroot itself maps to "/").
std::string without_chroot(const std::string& chroot, std::string path);

}  // namespace corral::client
