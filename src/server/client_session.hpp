// One accepted connection: a client, or a neighbour that dialled us and said `HERD name`.
//
// The session reads lines, hands each to the server, and writes the replies back in the
// order the requests came, each reply in one write, even when a later reply is ready
// first (a WHATSAT waiting on its places source is never overtaken). At end of stream it
// answers every pending line, then closes.
//
// It holds a client to the limits of the config: it stops reading while too many replies
// or WHATSATs are pending, paces a client past its request rate, ends a connection that
// completes no line for `idle_timeout` and one whose client stops taking its replies for
// `write_timeout`. A neighbour, once authenticated, is exempt from pacing and idling.
// All of its coroutines run on one strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "limits/token_bucket.hpp"
#include "protocol/line_splitter.hpp"
#include "protocol/request.hpp"
#include "server/server.hpp"
#include "server/signal.hpp"

namespace herd::server {

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(boost::asio::ip::tcp::socket socket, Server& server, std::uint64_t id);

  void start();

 private:
  using Clock = std::chrono::steady_clock;

  // A WHATSAT's answer, filled in by its coroutine.
  struct Answer {
    bool ready = false;
    std::string text;
  };
  // A reply, in request order. Its text, once known when the request is handled, is
  // texts_[begin, end) (offsets counted from the first byte the session ever queued); a
  // WHATSAT's comes later, in `answer`. An AT reply waits for change `commit`.
  struct Reply {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::uint64_t commit = 0;  // 0: nothing to wait for
    std::shared_ptr<Answer> answer;
  };

  // A neighbour's `HERD name nonce`, answered with our CHALLENGE, awaiting its PROOF.
  struct Handshake {
    std::string neighbour;
    std::string dialler_nonce;
    std::string acceptor_nonce;
  };

  // What one read may take. A client's lines come a few at a time, and every connection
  // holds a buffer this size. A neighbour's link streams records, and the records of one
  // read are stored in one transaction and flooded on together: 8 KiB made a relay's
  // transactions about 90 records each under load, 64 KiB about 600, and the herd faster
  // in both durabilities (docs/durability.md). A server has only a few neighbours.
  static constexpr std::size_t kClientReadBytes = 8192;
  static constexpr std::size_t kNeighbourReadBytes = 65536;

  boost::asio::awaitable<void> read_lines();
  boost::asio::awaitable<void> write_replies();
  boost::asio::awaitable<void> watch_deadlines();
  boost::asio::awaitable<void> pace();
  bool must_wait_before_reading() const;
  void handle(const protocol::Line& line);
  void handle_hello(const protocol::Hello& hello, const std::string& line);
  void handle_proof(const protocol::Proof& proof, const std::string& line);
  void become_neighbour(const std::string& name, std::string_view how);
  void end_session(std::string_view why);
  void answer_now(std::string_view text) { queue_reply(text, 0); }
  // An IAMAT's reply waits until its record is committed (journal.hpp).
  void answer_once_committed(const Server::Acknowledgement& acknowledgement) {
    queue_reply(acknowledgement.reply, acknowledgement.seq);
  }
  void queue_reply(std::string_view text, std::uint64_t commit);
  bool is_ready(const Reply& reply) const;
  // Takes the ready replies at the head into `out`, logging each.
  void take_ready_replies(std::string& out);
  // The head waits for a commit: one wait is registered at a time, for the head, and the
  // writer takes every reply committed by the time it wakes, so a commit costs a session
  // one wake-up, not one per IAMAT.
  void wait_for_commit(std::uint64_t seq);
  boost::asio::awaitable<void> answer_whatsat(std::shared_ptr<Answer> answer,
                                              protocol::Record record, protocol::WhatsAt request);

  boost::asio::ip::tcp::socket socket_;
  Server& server_;
  std::string peer_;                      // "client 7 127.0.0.1:50312" or "neighbour Clark (in)"
  std::optional<std::string> neighbour_;  // set once the peer proved to be one
  std::optional<Handshake> handshake_;
  protocol::LineSplitter splitter_;
  // Replies are kept by value and their texts side by side in one buffer: holding an AT
  // reply until its commit then costs no allocation of its own (docs/durability.md).
  std::deque<Reply> replies_;
  std::string texts_;
  std::uint64_t texts_start_ = 0;  // the offset of texts_[0]
  bool waiting_for_commit_ = false;
  std::size_t whatsats_pending_ = 0;
  bool reading_done_ = false;
  bool closed_ = false;
  limits::TokenBucket requests_;
  Clock::time_point last_line_at_;
  std::optional<Clock::time_point> write_started_at_;
  boost::asio::steady_timer deadline_;
  Signal reply_ready_;
  Signal room_for_more_;
};

}  // namespace herd::server
