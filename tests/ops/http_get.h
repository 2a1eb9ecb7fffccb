// A minimal blocking HTTP/1.1 GET over a loopback socket, for tests of the server's /metrics
// and AdminServer endpoints (no client library: it reads until the server closes).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace corral::ops_test {

/// An HTTP answer: status code, Content-Type and body (chunked bodies are decoded).
struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// GET http://127.0.0.1:`port``path`; nullopt if it cannot connect or no full answer comes
/// within `deadline`.
std::optional<HttpAnswer> http_get(uint16_t port, const std::string& path,
                                   std::chrono::milliseconds deadline = std::chrono::seconds(5));

/// Prometheus text format's sample lines as "name{labels}" -> value (comments skipped).
std::map<std::string, double> samples(const std::string& text);

}  // namespace corral::ops_test
