// The link on which this server floods records to one neighbour.
//
// Each server dials each of its neighbours and sends on the connection it dialled (it
// receives on the ones they dialled), so a link is one-way and needs no tie-breaking.
// The link dials at start, re-dials with backoff (100 ms doubling to 2 s) whenever the
// connection drops, and keeps the newest unsent record per client meanwhile: after an
// outage it sends what was missed, once, however many updates a client made.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "config/config.hpp"
#include "log/event_log.hpp"
#include "protocol/record.hpp"
#include "server/signal.hpp"

namespace herd::server {

class NeighbourLink : public std::enable_shared_from_this<NeighbourLink> {
 public:
  // `executor` should be a strand: the link's coroutines all run on it. With a non-empty
  // `secret` the link authenticates itself and the neighbour (auth/link_auth.hpp) before
  // it sends any record.
  NeighbourLink(boost::asio::any_io_executor executor, std::string self,
                config::ServerConfig neighbour, std::string secret, log::EventLog& log);

  const std::string& neighbour() const { return neighbour_.name; }

  void start();
  void stop();

  // Hands a record to the link; safe from any thread. It is queued before this returns.
  void send(const protocol::Record& record);

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> connect();
  boost::asio::awaitable<bool> introduce();
  boost::asio::awaitable<void> deliver();
  boost::asio::awaitable<void> watch_for_close(
      std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  void requeue(std::unordered_map<std::string, protocol::Record>&& batch);

  boost::asio::any_io_executor executor_;
  std::string self_;
  config::ServerConfig neighbour_;
  std::string secret_;
  std::string peer_;  // "neighbour Clark (out)", for the log
  log::EventLog& log_;
  std::shared_ptr<boost::asio::ip::tcp::socket> socket_;  // the current connection, if any
  Signal wake_;
  bool stopped_ = false;

  std::mutex mutex_;  // guards unsent_, which send() fills from any thread
  std::unordered_map<std::string, protocol::Record> unsent_;
};

}  // namespace herd::server
