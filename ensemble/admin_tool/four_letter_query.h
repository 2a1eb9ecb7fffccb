// A four-letter word sent to a server's client port, as `echo srvr | nc host port` does.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace corral::admin {

/// A server's "host:port" (an IPv6 address in brackets).
struct Endpoint {
  std::string host;
  std::string port;
  /// "host:port", for messages.
  std::string text() const {
    return host.find(':') == std::string::npos ? host + ":" + port : "[" + host + "]:" + port;
  }
};

/// Parses "host:port" or "[v6]:port"; nullopt when malformed.
std::optional<Endpoint> parse_endpoint(const std::string& text);

/// What the server wrote before it closed the connection, or nullopt (with `error` set) when
/// it could not be reached or did not finish within `deadline`.
std::optional<std::string> four_letter_query(const Endpoint& server, const std::string& word,
                                             std::chrono::milliseconds deadline,
                                             std::string& error);

}  // namespace corral::admin
