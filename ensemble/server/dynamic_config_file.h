// The files of a reconfigurable ensemble, as ZooKeeper 3.8's QuorumPeerConfig reads and
// writes them: zoo.cfg's `dynamicConfigFile=` pointer, the dynamic file it points to
// (`<zoo.cfg>.dynamic.<hex version>`: server.N lines, no version line), the one-time
// `<zoo.cfg>.bak` of a legacy zoo.cfg, and zoo.cfg rewritten without its server.N lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ensemble/server/config.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::server {

/// The version a dynamic file's name carries, as ZooKeeper's getVersionFromFilename reads it:
/// the hex text after the last '.' (`zoo.cfg.dynamic.100000000` -> 0x100000000), 0 if that
/// is not a hex number.
int64_t dynamic_file_version(std::string_view path);

/// `<cfg_path>.dynamic.<version in lower-case hex>`: where an activated config is written.
std::string dynamic_file_name(const std::string& cfg_path, int64_t version);

/// When zoo.cfg (at `cfg_path`, parsed into `config`) sets dynamicConfigFile: refuses
/// server.N, group* and weight* lines in zoo.cfg (ZooKeeper: "must be in a separate dynamic
/// config file"), reads the dynamic file (a relative path is taken from the working
/// directory, as Java does) into `config.servers` and `config.dynamic_config_version`, and
/// applies this server's client address from its line (ZooKeeper's setupClientPort). Does
/// nothing when dynamicConfigFile is not set. Throws ConfigError naming file:line:key.
void load_dynamic_config(ServerConfig& config, const std::string& cfg_path);

/// The dynamic file's bytes for `config` (writeDynamicConfig): its `server.N=...` lines
/// sorted as strings, joined by '\n', with no version line and no final newline.
std::string dynamic_file_text(const zab::QuorumConfig& config);

/// zoo.cfg's text after editStaticConfig: the `key=value` lines of `cfg_text` (comments and
/// blank lines dropped, a repeated key once with its last value, in order of first
/// appearance) minus server.*, group*, weight*, dynamicConfigFile* and peerType*, and minus
/// clientPort* when `erase_client_port`; then `dynamicConfigFile=<dynamic_path>`.
std::string static_config_text(std::string_view cfg_text, const std::string& dynamic_path,
                               bool erase_client_port);

/// Writes the files for an activated config, as ZooKeeper's setQuorumVerifier(qv, true):
/// `<cfg_path>.bak` (a copy, only while zoo.cfg has no dynamicConfigFile, so once), the
/// dynamic file of `config.version`, then zoo.cfg pointing to it (canonical path), erasing
/// clientPort* when server `my_id`'s line has a client part of its own. Each file is written
/// atomically (temporary file, fsync, rename, fsync of the directory). Returns the dynamic
/// file's path. Throws std::system_error (or ConfigError if zoo.cfg cannot be read): the
/// caller logs it, as the database, not these files, is authoritative.
std::string write_config_files(const std::string& cfg_path, const zab::QuorumConfig& config,
                               int64_t my_id);

/// Replaces the file at `path` with `content` atomically and durably (see above).
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace corral::server
