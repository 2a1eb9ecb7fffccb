#include "ensemble/storage/state_image.h"

#include <set>

#include "ensemble/storage/snapshot_load.h"
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
    // A session twice would break the database's key when a learner stores the rows, which it
    // does before the tree is built: it is refused here, with the rest of what is malformed.
    std::set<int64_t> ids;
    for (int32_t i = 0; i < sessions; ++i) {
      SessionRow s;
      s.id = r.int64();
      s.timeout_ms = r.int32();
      s.passwd = r.buffer();
      if (!ids.insert(s.id).second)
        throw wire::DecodeError("session " + std::to_string(s.id) + " appears twice");
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
  // A leader's image gets the checks recovery gives the database's snapshots.
  SnapshotLoader loader(tree, image.nodes.size());
  for (const auto& row : image.nodes)
    if (std::string why = loader.add(row.path, row.record); !why.empty())
      throw StorageError("state image: " + why);
  if (std::string why = ephemeral_problem(tree); !why.empty())
    throw StorageError("state image: " + why);
  tree.set_last_zxid(image.zxid);
}

}  // namespace corral::storage
