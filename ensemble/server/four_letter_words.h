// ZooKeeper's four-letter words on the client port (ruok, srvr, stat, mntr,
// conf, cons, envi, wchs, dirs, isro, crst, srst) and Corral's dgst (a digest of the
// tree), honouring the whitelist.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corral::server {

class NetworkServer;
class ServerCore;

/// The version string srvr, mntr, envi and the AdminServer report.
std::string server_version();
/// "standalone", or the ensemble role as ZooKeeper names it ("leader", "read-only", ...).
std::string server_mode(const ServerCore& core);
/// Bytes in the regular files under `dir` (dirs: datadir_size, logdir_size).
uint64_t directory_size(const std::string& dir);

/// True when the first four bytes of a connection name a command Corral knows.
bool is_four_letter_word(std::string_view word);

/// The command's text answer, or ZooKeeper's "not in the whitelist" message.
std::string run_four_letter_word(std::string_view word, NetworkServer& server);

}  // namespace corral::server
