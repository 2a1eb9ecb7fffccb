// The client's OpenSSL context for TlsOptions.
#pragma once

#include <openssl/ssl.h>

#include <asio/ssl/context.hpp>
#include <string>

#include "corral/client/tls.h"

namespace corral::client {

/// A context that checks the servers' certificates against the CA file (TLS 1.2 or newer)
/// and presents the client certificate if one is set. Throws std::invalid_argument naming
/// the file that cannot be used.
asio::ssl::context make_tls_context(const TlsOptions& options);

}  // namespace corral::client
