#include "host_list.h"

#include <stdexcept>

#include "wire/path.h"

namespace corral::client {

namespace {

HostPort parse_host(const std::string& item, const std::string& whole) {
  if (item.empty()) throw std::invalid_argument("connect string '" + whole + "': empty host");
  // [v6addr]:port, host:port, or host alone (port 2181, as ZooKeeper's clients assume).
  std::string host, port = "2181";
  if (item.front() == '[') {
    auto close = item.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("connect string '" + whole + "': unclosed '[' in " + item);
    host = item.substr(1, close - 1);
    if (close + 1 < item.size()) {
      if (item[close + 1] != ':')
        throw std::invalid_argument("connect string '" + whole + "': bad host " + item);
      port = item.substr(close + 2);
    }
  } else {
    auto colon = item.rfind(':');
    host = item.substr(0, colon);
    if (colon != std::string::npos) port = item.substr(colon + 1);
  }
  // Up to 5 digits before stoi, which would throw its own error past int's range.
  const bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
  const int number = digits ? std::stoi(port) : 0;
  if (host.empty() || number < 1 || number > 65535)
    throw std::invalid_argument("connect string '" + whole + "': bad host:port " + item);
  return {host, static_cast<uint16_t>(number)};
}

}  // namespace

std::string HostPort::text() const {
  const std::string p = std::to_string(port);
  return host.find(':') == std::string::npos ? host + ":" + p : "[" + host + "]:" + p;
}

ConnectString parse_connect_string(const std::string& text) {
  ConnectString out;
  std::string hosts = text;
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    hosts = text.substr(0, slash);
    out.chroot = text.substr(slash);
    if (out.chroot == "/") out.chroot.clear();
    if (!out.chroot.empty()) {
      std::string problem = wire::validate_path(out.chroot);
      if (!problem.empty())
        throw std::invalid_argument("connect string '" + text + "': chroot: " + problem);
    }
  }
  size_t start = 0;
  while (start <= hosts.size()) {
    auto comma = hosts.find(',', start);
    if (comma == std::string::npos) comma = hosts.size();
    out.hosts.push_back(parse_host(hosts.substr(start, comma - start), text));
    start = comma + 1;
  }
  return out;
}

std::string with_chroot(const std::string& chroot, const std::string& path) {
  if (chroot.empty()) return path;
  return path == "/" ? chroot : chroot + path;
}

std::string without_chroot(const std::string& chroot, std::string path) {
  if (chroot.empty()) return path;
  if (path == chroot) return "/";
  if (path.size() > chroot.size() && path.compare(0, chroot.size(), chroot) == 0 &&
      path[chroot.size()] == '/')
    path.erase(0, chroot.size());
  return path;  // (one not under the chroot, which should not happen, as it came)
}

}  // namespace corral::client
