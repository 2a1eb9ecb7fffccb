// A snapshot's records and chunks as written and read by hand (pb_wire.h): the bytes protobuf
// itself would write, read back field for field (and fields of a newer Corral skipped), and
// checksummed as stored.
#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <string>
#include <vector>

#include "ensemble/storage/checksum.h"
#include "ensemble/storage/records.pb.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_codec.h"
#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

/// pb.Node as the generated class writes it: what encode_node replaced.
std::string protobuf_record(const tree::Node& node) {
  pb::Node p;
  p.set_data(std::string(node.data.view()));
  p.set_data_null(node.data_null);
  for (const auto& a : *node.acl) {
    pb::Acl* acl = p.add_acl();
    acl->set_perms(a.perms);
    acl->mutable_id()->set_scheme(a.id.scheme);
    acl->mutable_id()->set_id(a.id.id);
  }
  p.set_czxid(node.czxid);
  p.set_mzxid(node.mzxid);
  p.set_pzxid(node.pzxid);
  p.set_ctime(node.ctime);
  p.set_mtime(node.mtime);
  p.set_version(node.version);
  p.set_cversion(node.cversion);
  p.set_aversion(node.aversion);
  p.set_ephemeral_owner(node.ephemeral_owner);
  return p.SerializeAsString();
}

std::vector<tree::Node> sample_nodes() {
  std::vector<tree::Node> nodes(5);
  const auto world = tree::SharedAcl(wire::AclList{{wire::perms::kAll, {"world", "anyone"}}});
  nodes[0].acl = world;  // every field 0 or empty
  nodes[1].acl = world;
  nodes[1].data = std::string(100, 'x');
  nodes[1].czxid = int64_t{7} << 32 | 1;
  nodes[1].mzxid = int64_t{7} << 32 | 300;
  nodes[1].pzxid = nodes[1].czxid;
  nodes[1].ctime = nodes[1].mtime = 1764979200123;
  nodes[1].version = 3;
  nodes[2].acl = tree::SharedAcl(
      wire::AclList{{wire::perms::kRead, {"digest", "u:hash"}}, {0, {"", ""}}, {-1, {"ip", ""}}});
  nodes[2].data_null = true;
  nodes[2].version = -1;  // int32 fields below 0 take ten bytes
  nodes[2].cversion = -2;
  nodes[2].aversion = INT32_MIN;
  nodes[2].ephemeral_owner = -1;
  nodes[3].acl = tree::SharedAcl(wire::AclList{});  // no ACL at all
  nodes[3].data = std::string(300, '\0');           // a length of two bytes
  nodes[3].czxid = INT64_MAX;
  nodes[3].mtime = INT64_MIN;
  nodes[4].acl = world;
  nodes[4].data = std::string(70000, 'y');  // three
  nodes[4].cversion = INT32_MAX;
  return nodes;
}

TEST(SnapshotEncoding, ARecordIsTheBytesProtobufWrites) {
  for (const auto& node : sample_nodes()) EXPECT_EQ(encode_node(node), protobuf_record(node));
}

TEST(SnapshotEncoding, ChunksDecodeToTheNodesAddedInOrder) {
  const auto nodes = sample_nodes();
  SnapshotChunks chunks;
  std::vector<SnapshotRow> expected;
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string path = "/r" + std::to_string(round) + "/n" + std::to_string(i);
      chunks.add(path, nodes[i]);
      expected.push_back({path, encode_node(nodes[i])});
    }
  std::vector<SnapshotRow> rows;
  for (const auto& chunk : chunks.chunks()) ASSERT_TRUE(decode_snapshot_chunk(chunk, rows));
  ASSERT_EQ(rows.size(), expected.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].path, expected[i].path);
    EXPECT_EQ(rows[i].record, expected[i].record) << rows[i].path;
    sum += snapshot_row_checksum(kRowChecksum, rows[i].path, rows[i].record);
  }
  EXPECT_EQ(chunks.node_count(), expected.size());
  EXPECT_EQ(chunks.checksum(), sum);
}

/// Whether `a` and `b` hold the same fields (children aside).
::testing::AssertionResult same_node(const tree::Node& a, const tree::Node& b) {
  if (a.data != b.data || a.data_null != b.data_null || *a.acl != *b.acl || a.czxid != b.czxid ||
      a.mzxid != b.mzxid || a.pzxid != b.pzxid || a.ctime != b.ctime || a.mtime != b.mtime ||
      a.version != b.version || a.cversion != b.cversion || a.aversion != b.aversion ||
      a.ephemeral_owner != b.ephemeral_owner)
    return ::testing::AssertionFailure() << "nodes differ";
  return ::testing::AssertionSuccess();
}

TEST(SnapshotEncoding, ARecordDecodesToTheNodeEncoded) {
  tree::DataTree tree;
  NodeDecoder decoder(tree);
  for (int round = 0; round < 2; ++round)  // the second time with the last ACL list at hand
    for (const auto& node : sample_nodes()) {
      tree::Node decoded;
      ASSERT_TRUE(decoder.decode(encode_node(node), decoded));
      EXPECT_TRUE(same_node(node, decoded));
    }
}

// Fields of a newer Corral (any number, any wire type) are skipped, as protobuf skips them.
TEST(SnapshotEncoding, FieldsTheDecoderDoesNotKnowAreSkipped) {
  const tree::Node node = std::move(sample_nodes()[1]);
  std::string record = encode_node(node);
  record += std::string("\xa0\x01\x05", 3);                     // field 20, varint 5
  record += std::string("\xaa\x01\x03xyz", 6);                  // field 21, 3 bytes
  record += std::string("\xb1\x01", 2) + std::string(8, '\1');  // field 22, 64-bit
  record += std::string("\xbd\x01", 2) + std::string(4, '\2');  // field 23, 32-bit
  record += std::string("\x3a\x01z", 3);  // field 7 (ctime) as bytes: not ours, skipped
  tree::DataTree tree;
  tree::Node decoded;
  ASSERT_TRUE(decode_node(record, tree, decoded));
  EXPECT_TRUE(same_node(node, decoded));
}

TEST(SnapshotEncoding, AMalformedRecordIsRefused) {
  const std::string good = encode_node(sample_nodes()[1]);
  tree::DataTree tree;
  tree::Node decoded;
  const std::vector<std::string> bad = {
      good.substr(0, good.size() - 1),                         // cut inside the last varint
      good.substr(0, 5),                                       // cut inside the data
      std::string("\x0a\x05") + "ab",                          // data longer than what is left
      std::string("\x20") + std::string(10, '\xff') + "\x01",  // a varint of eleven bytes
      std::string("\x00\x01", 2),                              // field 0
      std::string("\x1b\x00", 2),                              // a group never ended
      std::string("\x1a\x03\x12\x05") + "a",                   // an ACL whose id runs past its end
  };
  for (const auto& record : bad)
    EXPECT_FALSE(decode_node(record, tree, decoded)) << ::testing::PrintToString(record);
}

TEST(SnapshotEncoding, AMalformedChunkIsRefused) {
  SnapshotChunks chunks;
  chunks.add("/a", sample_nodes()[1]);
  chunks.add("/b", sample_nodes()[2]);
  const std::string& good = chunks.chunks().front();
  std::vector<std::string> paths;
  auto each = [&](std::string_view path, std::string_view) { paths.emplace_back(path); };
  ASSERT_TRUE(for_each_snapshot_entry(good, each));
  EXPECT_EQ(paths, (std::vector<std::string>{"/a", "/b"}));
  paths.clear();
  EXPECT_FALSE(for_each_snapshot_entry(good.substr(0, good.size() - 3), each));
  EXPECT_EQ(paths, std::vector<std::string>{"/a"});  // what came before the damage
  EXPECT_FALSE(for_each_snapshot_entry(std::string("\x0a\x7f", 2), each));
}

// Chunks stay under kSnapshotChunkBytes; a node larger than that goes alone; both adds (a node,
// a record encoded already) write the same bytes.
TEST(SnapshotEncoding, ChunksSplitAtTheirSizeAndBothAddsAgree) {
  tree::Node big;
  big.acl = tree::SharedAcl(wire::AclList{});
  big.data = std::string(kSnapshotChunkBytes + 10, 'b');
  tree::Node small;
  small.acl = big.acl;
  small.data = std::string(1000, 's');
  SnapshotChunks from_nodes, from_records;
  std::vector<std::string> paths;
  for (int i = 0; i < 600; ++i) {
    const tree::Node& node = i == 300 ? big : small;
    paths.push_back("/n" + std::to_string(i));
    from_nodes.add(paths.back(), node);
    from_records.add(paths.back(), encode_node(node));
  }
  EXPECT_EQ(from_nodes.chunks(), from_records.chunks());
  EXPECT_EQ(from_nodes.checksum(), from_records.checksum());
  ASSERT_GE(from_nodes.chunks().size(), 4u);
  size_t first = 0;
  for (size_t i = 0; i < from_nodes.chunks().size(); ++i) {
    std::vector<SnapshotRow> rows;
    ASSERT_TRUE(decode_snapshot_chunk(from_nodes.chunks()[i], rows));
    EXPECT_EQ(from_nodes.first_path(i), paths[first]);
    if (rows.size() > 1) {
      EXPECT_LE(from_nodes.chunks()[i].size(), kSnapshotChunkBytes);
    }
    // Full: the next node (1,000 bytes of data and some framing) did not fit.
    if (i + 1 < from_nodes.chunks().size() && paths[first + rows.size()] != "/n300") {
      EXPECT_GT(from_nodes.chunks()[i].size() + 1000, kSnapshotChunkBytes);
    }
    if (paths[first] == "/n300") {
      EXPECT_EQ(rows.size(), 1u);
    }
    first += rows.size();
  }
  EXPECT_EQ(first, paths.size());
}

// The kinds of row checksum differ, and each covers both the path and the record.
TEST(SnapshotEncoding, RowChecksumsOfBothKindsCoverPathAndRecord) {
  for (RowChecksum kind : {RowChecksum::kFnv1a, RowChecksum::kXxh3}) {
    const uint64_t h = snapshot_row_checksum(kind, "/a", "record");
    EXPECT_NE(h, snapshot_row_checksum(kind, "/b", "record"));
    EXPECT_NE(h, snapshot_row_checksum(kind, "/a", "recorD"));
    EXPECT_NE(h, snapshot_row_checksum(kind, "/ar", "ecord"));
  }
  EXPECT_NE(snapshot_row_checksum(RowChecksum::kFnv1a, "/a", "record"),
            snapshot_row_checksum(RowChecksum::kXxh3, "/a", "record"));
}

// Stored sums must mean the same to every build: each kind's value for one row is pinned, and
// XXH3 is checked against xxHash's own test vector.
TEST(SnapshotEncoding, RowChecksumsAreFixedByDefinition) {
  EXPECT_EQ(XXH3_64bits("", 0), 0x2D06800538D394C2ull);  // xxHash's sanity check
  EXPECT_EQ(snapshot_row_checksum(RowChecksum::kXxh3, "/a", "record"),
            XXH3_64bits_withSeed("record", 6, XXH3_64bits("/a", 2)));
  EXPECT_EQ(snapshot_row_checksum(RowChecksum::kXxh3, "/a", "record"), 0x79bd9619165a43ecull);
  // FNV-1a over each field's 8-byte little-endian length, then its bytes (worked out apart).
  EXPECT_EQ(snapshot_row_checksum(RowChecksum::kFnv1a, "/a", "record"), 0xfef53c583b82dc74ull);
}

}  // namespace
}  // namespace corral::storage
