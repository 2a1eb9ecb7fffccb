#include "ensemble/server/tls_settings.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace corral::server {

std::optional<TlsClientAuth> parse_tls_client_auth(std::string_view text) {
  std::string value(text);
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (value.empty() || value == "need") return TlsClientAuth::need;
  if (value == "want") return TlsClientAuth::want;
  if (value == "none") return TlsClientAuth::none;
  return std::nullopt;
}

std::string_view tls_client_auth_name(TlsClientAuth auth) {
  switch (auth) {
    case TlsClientAuth::none:
      return "none";
    case TlsClientAuth::want:
      return "want";
    case TlsClientAuth::need:
      return "need";
  }
  return "need";
}

bool tls_protocol_known(std::string_view name) {
  constexpr std::array<std::string_view, 5> kKnown = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
                                                      "TLS"};
  return std::find(kKnown.begin(), kKnown.end(), name) != kKnown.end();
}

std::vector<std::string> parse_tls_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    size_t begin = item.find_first_not_of(" \t");
    if (begin == std::string_view::npos) continue;
    items.emplace_back(item.substr(begin, item.find_last_not_of(" \t") - begin + 1));
  }
  return items;
}

}  // namespace corral::server
