// The link on which this server floods records to one neighbour.
//
// Each server dials each of its neighbours and sends on the connection it dialled (it
// receives on the ones they dialled), so a link is one-way and needs no tie-breaking.
// The link dials at start and re-dials with backoff (100 ms doubling to 2 s) whenever the
// connection drops. It keeps no queue of its own: the store is the queue. Once connected,
// the neighbour says how far it got in our store (SINCE); the link sends every record
// stored after that point, oldest first, then each new one as it is committed, marking
// its progress after every batch (MARK). After an outage it thus sends what was missed,
// once a client however many updates it made, and never the whole store
// (docs/catch-up.md).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "log/event_log.hpp"
#include "loop/after_turn.hpp"
#include "protocol/catch_up.hpp"
#include "server/signal.hpp"
#include "store/journal.hpp"
#include "store/record_store.hpp"

namespace herd::server {

class NeighbourLink : public std::enable_shared_from_this<NeighbourLink> {
 public:
  // `executor` should be a strand: the link's coroutines all run on it. With a non-empty
  // `secret` the link authenticates itself and the neighbour (auth/link_auth.hpp) before
  // it sends any record.
  NeighbourLink(boost::asio::any_io_executor executor, std::string self,
                config::ServerConfig neighbour, std::string secret, log::EventLog& log,
                const store::RecordStore& records, const store::Journal& journal);

  const std::string& neighbour() const { return neighbour_.name; }

  void start();
  void stop();

  // Tells the link that more records are committed; safe from any thread.
  void wake();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> connect();
  boost::asio::awaitable<bool> introduce();
  boost::asio::awaitable<std::optional<std::string>> read_line(std::string_view waiting_for);
  boost::asio::awaitable<std::optional<protocol::StorePosition>> read_since();
  boost::asio::awaitable<void> deliver(protocol::StorePosition since);
  boost::asio::awaitable<void> watch_for_close(
      std::shared_ptr<boost::asio::ip::tcp::socket> socket);

  boost::asio::any_io_executor executor_;
  std::string self_;
  config::ServerConfig neighbour_;
  std::string secret_;
  std::string peer_;  // "neighbour Clark (out)", for the log
  log::EventLog& log_;
  const store::RecordStore& records_;
  const store::Journal& journal_;
  std::shared_ptr<boost::asio::ip::tcp::socket> socket_;  // the current connection, if any
  std::string inbox_;  // what the neighbour sent and we have not read yet
  Signal wake_;
  loop::AfterTurn wake_soon_;  // notifies wake_ on the link's strand, once for many wake()s
  bool stopped_ = false;
};

}  // namespace herd::server
