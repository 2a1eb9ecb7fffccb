#include "tests/e2e/jute_bytes.h"

namespace corral::e2e {

void put32(std::string& out, int32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint32_t>(v) >> s) & 0xff);
}

void put64(std::string& out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint64_t>(v) >> s) & 0xff);
}

void put_buffer(std::string& out, std::string_view v) {
  put32(out, static_cast<int32_t>(v.size()));
  out += v;
}

int32_t get32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[at + i]);
  return static_cast<int32_t>(v);
}

int64_t get64(std::string_view in, size_t at) {
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<uint32_t>(get32(in, at))) << 32 |
                              static_cast<uint32_t>(get32(in, at + 4)));
}

std::string frame(std::string_view payload) {
  std::string out;
  put_buffer(out, payload);
  return out;
}

std::string connect_request(int32_t timeout_ms) {
  std::string out;
  put32(out, 0);           // protocolVersion
  put64(out, 0);           // lastZxidSeen
  put32(out, timeout_ms);  // timeOut
  put64(out, 0);           // sessionId
  put_buffer(out, std::string(16, '\0'));
  out += '\0';  // readOnly
  return out;
}

std::string request(int32_t xid, int32_t op, std::string_view body) {
  std::string out;
  put32(out, xid);
  put32(out, op);
  out += body;
  return out;
}

std::string open_acl() {
  std::string out;
  put32(out, 1);
  put32(out, 31);
  put_buffer(out, "world");
  put_buffer(out, "anyone");
  return out;
}

std::string create_body(std::string_view path, std::string_view data, int32_t flags) {
  std::string out;
  put_buffer(out, path);
  put_buffer(out, data);
  out += open_acl();
  put32(out, flags);
  return out;
}

std::string path_watch_body(std::string_view path) {
  std::string out;
  put_buffer(out, path);
  out += '\0';
  return out;
}

}  // namespace corral::e2e
