#include "tests/e2e/tree_fill.h"

#include "tests/e2e/jute_bytes.h"

namespace corral::e2e {
namespace {

/// A multi creating /p<parent> and its children.
std::string fill_multi(const TreeShape& shape, int parent) {
  const std::string dir = "/p" + std::to_string(parent);
  const std::string data(shape.data_bytes, 'x');
  std::string body;
  auto add_create = [&](const std::string& path) {
    put32(body, kOpCreate);
    body += '\0';  // done: false
    put32(body, -1);
    body += create_body(path, data);
  };
  add_create(dir);
  for (int i = 0; i < shape.children; ++i) add_create(dir + "/" + std::to_string(i));
  put32(body, -1);  // the closing header: type -1, done, err -1
  body += '\1';
  put32(body, -1);
  return body;
}

}  // namespace

std::string fill_tree(RawClient& client, const TreeShape& shape) {
  int sent = 0;
  int answered = 0;
  while (answered < shape.parents) {
    while (sent < shape.parents && sent - answered < shape.window) {
      if (!client.send(frame(request(sent + 1, kOpMulti, fill_multi(shape, sent)))))
        return "the connection closed while sending multi " + std::to_string(sent);
      ++sent;
    }
    auto reply = client.read_frame();
    if (!reply || reply->size() < 16) return "no answer to multi " + std::to_string(answered);
    if (get32(*reply, 12) != kOk)
      return "multi " + std::to_string(answered) + " failed: " + std::to_string(get32(*reply, 12));
    ++answered;
  }
  return "";
}

std::string set_many(RawClient& client, const std::string& path, int count, int window,
                     const std::string& value) {
  std::string body;
  put_buffer(body, path);
  put_buffer(body, value);
  put32(body, -1);  // any version
  int sent = 0;
  int answered = 0;
  while (answered < count) {
    std::string burst;
    // Each with its own xid: the server tells a session's requests apart by it.
    for (; sent < count && sent - answered < window; ++sent)
      burst += frame(request(sent + 1, kOpSetData, body));
    if (!burst.empty() && !client.send(burst))
      return "the connection closed after " + std::to_string(answered) + " setData";
    auto reply = client.read_frame();
    if (!reply || reply->size() < 16) return "no answer to setData " + std::to_string(answered);
    if (get32(*reply, 12) != kOk) return "setData failed: " + std::to_string(get32(*reply, 12));
    ++answered;
  }
  return "";
}

}  // namespace corral::e2e
