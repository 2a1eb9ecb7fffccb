#include "wire/sasl/digest_md5.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace corral::sasl {
namespace {

std::string md5(std::string_view data) {
  unsigned char out[MD5_DIGEST_LENGTH];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &size, EVP_md5(), nullptr) != 1)
    throw std::runtime_error("DIGEST-MD5: MD5 is not available from OpenSSL");
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

// RFC 2831 2.1.2.1: with charset=utf-8, user name, realm and password are converted to
// ISO 8859-1 before hashing when all their characters fit; otherwise the UTF-8 bytes are used.
std::string latin1_if_possible(std::string_view utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size() &&
               (static_cast<unsigned char>(utf8[i + 1]) & 0xc0) == 0x80) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f));
    } else {
      return std::string(utf8);
    }
  }
  return out;
}

}  // namespace

std::string digest_response(const DigestInputs& in, bool authenticate) {
  std::string secret = latin1_if_possible(std::string(in.username) + ":" + std::string(in.realm) +
                                          ":" + std::string(in.password));
  std::string a1 = md5(secret) + ":" + std::string(in.nonce) + ":" + std::string(in.cnonce);
  if (!in.authzid.empty()) a1 += ":" + std::string(in.authzid);
  std::string a2 = (authenticate ? "AUTHENTICATE:" : ":") + std::string(in.digest_uri);
  std::string kd = hex(md5(a1)) + ":" + std::string(in.nonce) + ":" + std::string(in.nc) + ":" +
                   std::string(in.cnonce) + ":auth:" + hex(md5(a2));
  return hex(md5(kd));
}

std::string random_nonce() {
  unsigned char bytes[30];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("DIGEST-MD5: no random bytes from OpenSSL");
  unsigned char text[4 * sizeof bytes / 3 + 1];
  int n = EVP_EncodeBlock(text, bytes, sizeof bytes);
  return std::string(reinterpret_cast<char*>(text), n);
}

bool equal_secrets(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace corral::sasl
