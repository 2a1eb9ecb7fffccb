#include "ensemble/storage/state_image.h"

#include "ensemble/storage/snapshot_codec.h"
#include "ensemble/storage/snapshot_walk.h"
#include "wire/jute.h"

namespace corral::storage {

StateImage capture_image(const tree::DataTree& tree, std::vector<SessionRow> sessions) {
  StateImage image;
  image.zxid = tree.last_zxid();
  image.sessions = std::move(sessions);
  SnapshotWalk walk;
  while (!walk.done()) walk.next(tree, SIZE_MAX, image.nodes);
  return image;
}

std::string encode_image(const StateImage& image) {
  std::string out;
  wire::JuteWriter w(out);
  w.int64(image.zxid);
  w.int32(static_cast<int32_t>(image.sessions.size()));
  for (const auto& s : image.sessions) {
    w.int64(s.id);
    w.int32(s.timeout_ms);
    w.buffer(s.passwd);
  }
  w.int64(static_cast<int64_t>(image.nodes.size()));
  for (const auto& n : image.nodes) {
    w.string(n.path);
    w.buffer(n.record);
  }
  return out;
}

StateImage decode_image(const std::string& bytes) {
  StateImage image;
  try {
    wire::JuteReader r(bytes);
    image.zxid = r.int64();
    int32_t sessions = r.int32();
    if (sessions < 0) throw wire::DecodeError("negative session count");
    for (int32_t i = 0; i < sessions; ++i) {
      SessionRow s;
      s.id = r.int64();
      s.timeout_ms = r.int32();
      s.passwd = r.buffer();
      image.sessions.push_back(std::move(s));
    }
    int64_t nodes = r.int64();
    if (nodes < 0) throw wire::DecodeError("negative node count");
    for (int64_t i = 0; i < nodes; ++i) {
      SnapshotRow row;
      row.path = r.string();
      row.record = r.buffer();
      image.nodes.push_back(std::move(row));
    }
    if (r.remaining() != 0) throw wire::DecodeError("trailing bytes");
  } catch (const wire::DecodeError& e) {
    throw StorageError(std::string("state image does not decode: ") + e.what());
  }
  return image;
}

void load_image(const StateImage& image, tree::DataTree& tree) {
  for (const auto& row : image.nodes) {
    tree::Node node;
    if (!decode_node(row.record, tree, node))
      throw StorageError("state image node " + row.path + " does not decode");
    if (!tree.load_node(row.path, std::move(node)))
      throw StorageError("state image node " + row.path + " has no parent");
  }
  tree.set_last_zxid(image.zxid);
}

}  // namespace corral::storage
