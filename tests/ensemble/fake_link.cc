#include "tests/ensemble/fake_link.h"

#include <gtest/gtest.h>

#include <utility>

namespace corral::server::test {

FakeLink::FakeLink(uint64_t link_id, const std::string& addr) {
  id = link_id;
  address = addr;
  endpoint = addr + ":40000";
}

void FakeLink::send(std::string frame) {
  frames.push_back(std::move(frame));
  if (on_send) on_send(frames.back());
}

std::string payload_of(const std::string& frame) {
  EXPECT_GE(frame.size(), 4u);
  wire::JuteReader r(frame);
  int32_t len = r.int32();
  EXPECT_EQ(static_cast<size_t>(len), frame.size() - 4);
  return frame.substr(4);
}

Reply parse_reply(const std::string& frame) {
  std::string payload = payload_of(frame);
  wire::JuteReader r(payload);
  Reply rep;
  rep.header = wire::ReplyHeader::read(r);
  rep.body = payload.substr(payload.size() - r.remaining());
  return rep;
}

std::string encode_request(int32_t xid, wire::OpCode type, const BodyFn& body) {
  std::string out;
  wire::JuteWriter w(out);
  wire::RequestHeader{xid, static_cast<int32_t>(type)}.write(w);
  if (body) body(w);
  return out;
}

std::string connect_request(int32_t timeout_ms, int64_t session_id, const std::string& passwd,
                            int64_t last_zxid_seen) {
  std::string payload;
  wire::JuteWriter w(payload);
  wire::ConnectRequest{0, last_zxid_seen, timeout_ms, session_id, passwd, false}.write(w);
  return payload;
}

wire::ConnectResponse parse_connect_response(const std::string& frame) {
  std::string body = payload_of(frame);
  wire::JuteReader r(body);
  wire::ConnectResponse rsp = wire::ConnectResponse::read(r);
  EXPECT_TRUE(r.at_end());
  return rsp;
}

}  // namespace corral::server::test
