// One client TCP connection: reads length-prefixed frames (bounded by
// jute.maxbuffer), hands them to the core, and writes queued frames with
// gathered writes. Stops reading while too much output is queued, so a slow
// client slows down instead of growing the server's memory.
#pragma once

#include <asio/ip/tcp.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/client_link.h"

namespace corral::server {

class NetworkServer;

/// A client connection driven by Asio on the core's thread.
class ClientConnection : public ClientLink, public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(asio::ip::tcp::socket socket, NetworkServer& server, uint64_t id);
  /// Starts reading.
  void start();
  void send(std::string frame) override;
  void close() override;
  void wake() override { read_more(); }

 private:
  void read_more();
  void on_read(size_t n);
  /// Handles complete frames in the input buffer; false once the connection must close.
  bool consume_frames();
  bool try_four_letter_word();
  void write_more();
  void shutdown();
  bool output_full() const;

  asio::ip::tcp::socket socket_;
  NetworkServer& server_;
  std::vector<char> in_;
  size_t in_used_ = 0;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  bool writing_ = false;
  bool reading_ = false;
  bool first_bytes_ = true;
  bool close_after_write_ = false;
  bool closed_ = false;
};

}  // namespace corral::server
