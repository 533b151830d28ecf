// One member of the herd: it accepts clients and neighbours, keeps the records, floods new
// ones to its neighbours and answers WHATSAT from its places source.
//
// The protocol decisions live here, in handle_*; reading, ordering and writing lines is the
// session's job (client_session.hpp), dialling neighbours and sending them records the
// link's (neighbour_link.hpp), and keeping records the store's (store/). Every piece of
// state is owned by this object, so the event loop may run on several threads.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "log/event_log.hpp"
#include "places/places_source.hpp"
#include "protocol/request.hpp"
#include "server/neighbour_link.hpp"
#include "store/database.hpp"
#include "store/journal.hpp"
#include "store/record_store.hpp"

namespace herd::server {

class Server {
 public:
  // `link_secret` authenticates neighbour links (auth/link_auth.hpp); empty: links are
  // unauthenticated, which serve() allows only where the config says so or on loopback.
  Server(boost::asio::io_context& io, const config::HerdConfig& herd,
         const config::ServerConfig& self, std::unique_ptr<places::PlacesSource> places,
         std::string link_secret, log::EventLog& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the data file (store.dir; throws config::ConfigError if it cannot) and takes
  // back the records it holds.
  // Listens on the configured address (throws config::ConfigError if it cannot), then
  // accepts connections and dials every neighbour.
  void start();
  // Stops accepting and closes the neighbour links, on their own strands: what has not run
  // when the event loop stops is finished by the destructor.
  void stop();

  const std::string& name() const { return self_.name; }
  log::EventLog& log() { return log_; }
  const config::LimitsConfig& limits() const { return herd_.limits; }
  const std::string& link_secret() const { return link_secret_; }
  bool is_neighbour(std::string_view name) const;

  // The reply to an IAMAT, to be sent once the journal has committed change `seq`: by
  // then the record is in the data file and on its way to the neighbours.
  struct Acknowledgement {
    std::string reply;
    std::uint64_t seq = 0;
  };
  // nullopt when the line is refused: the store is full and the client new, or the client
  // time is older than the records' time-to-live.
  std::optional<Acknowledgement> handle_iamat(const protocol::IamAt& iamat);
  bool is_committed(std::uint64_t seq) const { return journal_.committed() >= seq; }
  // Runs `done` once change `seq` is committed, on whatever thread commits it.
  void when_committed(std::uint64_t seq, std::function<void()> done) {
    journal_.when_committed(seq, std::move(done));
  }

  // A record flooded by `neighbour`: stored when newer, and then flooded on. No reply.
  void handle_at(const protocol::Record& record, std::string_view neighbour);

  // `neighbour` has sent us its records up to `position` (MARK).
  void handle_mark(std::string_view neighbour, const protocol::StorePosition& position);
  // How far `neighbour` has got sending us its records, for the SINCE that opens its link.
  protocol::StorePosition position_of(std::string_view neighbour) const;

  // The stored record of a WHATSAT's client, if any server of the herd has heard from it.
  std::optional<protocol::Record> find(std::string_view client_id) const;

  // The reply to a WHATSAT for a known client; waits on the places source, unless more
  // than limits().max_whatsat_per_server are waiting already.
  boost::asio::awaitable<std::string> whatsat(protocol::Record record, protocol::WhatsAt request);

  // Sessions report their end, so that the connection limit counts only open ones.
  void session_closed() { --open_sessions_; }

 private:
  struct OpenedStore {
    std::unique_ptr<store::Database> database;  // null with durability "memory"
    store::Contents contents;
  };
  static OpenedStore open_store(const config::HerdConfig& herd, const config::ServerConfig& self,
                                log::EventLog& log);
  Server(boost::asio::io_context& io, const config::HerdConfig& herd,
         const config::ServerConfig& self, std::unique_ptr<places::PlacesSource> places,
         std::string link_secret, log::EventLog& log, OpenedStore opened);

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> forget_aged_out();

  boost::asio::io_context& io_;
  const config::HerdConfig& herd_;
  config::ServerConfig self_;
  std::unique_ptr<places::PlacesSource> places_;
  log::EventLog& log_;
  std::string link_secret_;
  // Declared in the order they depend on each other: the journal writes to the database,
  // the store appends to the journal, links read the store.
  std::unique_ptr<store::Database> database_;
  store::Journal journal_;
  store::RecordStore records_;
  std::vector<std::shared_ptr<NeighbourLink>> links_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<std::uint64_t> next_connection_{1};
  std::atomic<std::size_t> open_sessions_{0};
  std::atomic<std::size_t> whatsats_waiting_{0};
};

}  // namespace herd::server
