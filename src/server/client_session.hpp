// One accepted connection: a client, or a neighbour that dialled us and said `HERD name`.
//
// The session reads lines, hands each to the server, and writes the replies back in the
// order the requests came, each reply in one write, even when a later reply is ready
// first (a WHATSAT waiting on its places source is never overtaken). At end of stream it
// answers every pending line, then closes. All of its coroutines run on one strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "protocol/line_splitter.hpp"
#include "protocol/request.hpp"
#include "server/signal.hpp"

namespace herd::server {

class Server;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(boost::asio::ip::tcp::socket socket, Server& server, std::uint64_t id);

  void start();

 private:
  // A reply in the making; `text` is empty until it is known (and stays empty for a line
  // that gets no answer, such as an AT from a neighbour).
  struct Slot {
    bool ready = false;
    std::string text;
  };

  boost::asio::awaitable<void> read_lines();
  boost::asio::awaitable<void> write_replies();
  void handle(const protocol::Line& line);
  void answer_now(std::string text);
  boost::asio::awaitable<void> answer_whatsat(std::shared_ptr<Slot> slot, protocol::Record record,
                                              protocol::WhatsAt request);

  boost::asio::ip::tcp::socket socket_;
  Server& server_;
  std::string peer_;                      // "client 7 127.0.0.1:50312" or "neighbour Clark (in)"
  std::optional<std::string> neighbour_;  // set once the peer introduced itself
  protocol::LineSplitter splitter_;
  std::deque<std::shared_ptr<Slot>> replies_;
  bool reading_done_ = false;
  Signal reply_ready_;
  Signal room_for_more_;
};

}  // namespace herd::server
