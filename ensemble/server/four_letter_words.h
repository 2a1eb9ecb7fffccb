// ZooKeeper's four-letter words on the client port (ruok, srvr, stat, mntr,
// conf, cons, envi, wchs, dirs, isro, crst, srst), honouring the whitelist.
#pragma once

#include <string>
#include <string_view>

namespace corral::server {

class NetworkServer;

/// True when the first four bytes of a connection name a command Corral knows.
bool is_four_letter_word(std::string_view word);

/// The command's text answer, or ZooKeeper's "not in the whitelist" message.
std::string run_four_letter_word(std::string_view word, NetworkServer& server);

}  // namespace corral::server
