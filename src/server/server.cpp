#include "server/server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "protocol/location.hpp"
#include "protocol/places_json.hpp"
#include "protocol/reply.hpp"
#include "protocol/timestamp.hpp"
#include "server/client_session.hpp"
#include "server/ephemeral_ports.hpp"

namespace herd::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

protocol::Timestamp now() {
  return protocol::to_timestamp(std::chrono::system_clock::now());
}

std::string where(const config::ServerConfig& server) {
  return server.host + ":" + std::to_string(server.port);
}

// The key path of a server's port in the config, for messages: "servers[2].port".
std::string port_key(const config::HerdConfig& herd, const config::ServerConfig& self) {
  auto it = std::find_if(herd.servers.begin(), herd.servers.end(),
                         [&](const auto& s) { return s.name == self.name; });
  return "servers[" + std::to_string(it - herd.servers.begin()) + "].port";
}

}  // namespace

Server::OpenedStore Server::open_store(const config::HerdConfig& herd,
                                       const config::ServerConfig& self, log::EventLog& log) {
  OpenedStore opened;
  const auto durability = herd.store.durability;
  if (durability == config::Durability::kMemory) {
    opened.contents.store_id = store::make_store_id();
    opened.contents.boot = 1;
    log.event(
        "store.durability = memory: no data file; records are kept in memory only, and "
        "a restart gets them back from the neighbours");
    return opened;
  }
  const auto file = config::data_file(herd.store, self.name);
  try {
    opened.database = std::make_unique<store::Database>(
        file,
        durability == config::Durability::kSynced ? store::Sync::kSynced : store::Sync::kWritten,
        opened.contents);
  } catch (const store::StoreError& e) {
    throw config::ConfigError(herd.source + ": store.dir: " + e.what());
  }
  log.event(opened.contents.report +
            " (store.durability = " + std::string(config::durability_name(durability)) + ")");
  return opened;
}

Server::Server(asio::io_context& io, const config::HerdConfig& herd,
               const config::ServerConfig& self, std::unique_ptr<places::PlacesSource> places,
               std::string link_secret, log::EventLog& log)
    : Server(io, herd, self, std::move(places), std::move(link_secret), log,
             open_store(herd, self, log)) {}

Server::Server(asio::io_context& io, const config::HerdConfig& herd,
               const config::ServerConfig& self, std::unique_ptr<places::PlacesSource> places,
               std::string link_secret, log::EventLog& log, OpenedStore opened)
    : io_(io),
      herd_(herd),
      self_(self),
      places_(std::move(places)),
      log_(log),
      link_secret_(std::move(link_secret)),
      database_(std::move(opened.database)),
      journal_(
          database_.get(), opened.contents.boot << store::kBootShift,
          [this](std::uint64_t) {
            for (auto& link : links_) link->wake();
          },
          [this](const std::string& message) { log_.failure("data file: " + message); },
          store::SnapshotSource{
              [this](std::uint64_t after, std::uint64_t up_to, std::size_t limit) {
                return records_.snapshot(after, up_to, limit);
              },
              [this] { return records_.size(); }},
          [&io](std::function<void()> work) { asio::post(io, std::move(work)); }),
      records_({herd.limits.max_records, herd.store.ttl}, journal_, opened.contents.store_id,
               opened.contents.boot),
      acceptor_(asio::make_strand(io)) {
  // The links exist before anything is journaled: commits wake them from another thread.
  for (const auto& name : self_.neighbours) {
    links_.push_back(std::make_shared<NeighbourLink>(asio::make_strand(io_), self_.name,
                                                     *herd_.find(name), link_secret_, log_,
                                                     records_, journal_));
  }
  const auto restored = records_.restore(opened.contents.records, opened.contents.cursors, now());
  if (restored.unreadable > 0 || restored.aged_out > 0) {
    log_.failure("data file: dropped " + std::to_string(restored.unreadable) +
                 " unreadable records and " + std::to_string(restored.aged_out) +
                 " aged out (store.ttl_s)");
  }
  log_.event("store " + records_.store_id() + ": " + std::to_string(restored.records) +
             " records; the neighbours send what was missed");
}

Server::~Server() {
  // The journal's thread calls into the links; it stops before they go.
  journal_.close();
}

void Server::start() {
  try {
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(self_.host, std::to_string(self_.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint endpoint = *endpoints.begin();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  } catch (const boost::system::system_error& e) {
    throw config::ConfigError(herd_.source + ": " + port_key(herd_, self_) + ": " + self_.name +
                              " cannot listen on " + where(self_) + ": " + e.code().message());
  }
  log_.event(self_.name + " listening on " + where(self_));
  if (const auto ephemeral = read_port_range(); ephemeral && ephemeral->contains(self_.port)) {
    log_.failure(herd_.source + ": " + port_key(herd_, self_) + " " + std::to_string(self_.port) +
                 " is in this host's ephemeral range " + std::to_string(ephemeral->low) + "-" +
                 std::to_string(ephemeral->high) + " (net.ipv4.ip_local_port_range): while " +
                 self_.name +
                 " is down, a connection that dials it may connect to itself and hold the "
                 "port; a port outside the range avoids that");
  }
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  if (herd_.store.ttl.count() > 0) {
    asio::co_spawn(asio::make_strand(io_), forget_aged_out(), asio::detached);
  }
  for (auto& link : links_) link->start();
}

void Server::stop() {
  // On the acceptor's strand, as the accept loop is: a close from another thread could
  // race an accept that the loop is starting.
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  for (auto& link : links_) link->stop();
}

bool Server::is_neighbour(std::string_view name) const {
  return std::find(self_.neighbours.begin(), self_.neighbours.end(), name) !=
         self_.neighbours.end();
}

asio::awaitable<void> Server::accept_loop() {
  asio::steady_timer pause(acceptor_.get_executor());
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
    if (error == asio::error::operation_aborted) co_return;
    if (error) {
      // Out of descriptors, say: wait a moment rather than spin, and keep accepting. That
      // case is worded here rather than asked of the error category: a sanitizer build
      // checks that virtual call with a pipe, which needs descriptors too.
      log_.failure(error == asio::error::no_descriptors
                       ? std::string("accept failed: Too many open files; retrying in 100 ms")
                       : "accept failed: " + error.message());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    if (open_sessions_ >= herd_.limits.max_connections) {
      // Refused at once: closing costs nothing and tells the client plainly.
      log_.failure("connection refused: " + std::to_string(herd_.limits.max_connections) +
                   " connections open (limits.max_connections)");
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    ++open_sessions_;
    std::make_shared<ClientSession>(std::move(socket), *this, next_connection_++)->start();
  }
}

std::optional<Server::Acknowledgement> Server::handle_iamat(const protocol::IamAt& iamat) {
  const auto received = now();
  auto record = protocol::make_record(self_.name, received, iamat);
  std::uint64_t holding = 0;
  switch (records_.offer(record, {}, received, &holding)) {
    case store::RecordStore::Outcome::kStored:
    case store::RecordStore::Outcome::kNotNewer:
      break;
    case store::RecordStore::Outcome::kFull:
      log_.failure("record store full (limits.max_records): IAMAT for a new client refused");
      return std::nullopt;
    case store::RecordStore::Outcome::kAgedOut:
      log_.failure("IAMAT refused: its client time is older than store.ttl_s");
      return std::nullopt;
  }
  // An IAMAT that changed nothing waits too, for the newer record it lost to: that may not
  // be committed yet, and the reply must not promise what a crash could take back.
  return Acknowledgement{protocol::at_reply(record), holding};
}

void Server::handle_at(const protocol::Record& record, std::string_view neighbour) {
  if (records_.offer(record, neighbour, now()) == store::RecordStore::Outcome::kFull) {
    log_.failure("record store full (limits.max_records): record from " + std::string(neighbour) +
                 " for a new client dropped");
  }
}

void Server::handle_mark(std::string_view neighbour, const protocol::StorePosition& position) {
  records_.advance(neighbour, position);
}

protocol::StorePosition Server::position_of(std::string_view neighbour) const {
  return records_.position_of(neighbour);
}

std::optional<protocol::Record> Server::find(std::string_view client_id) const {
  return records_.find(client_id, now());
}

asio::awaitable<void> Server::forget_aged_out() {
  // A little at a time, so that no request waits long on the store's lock.
  constexpr std::size_t kAtOnce = 1000;
  const auto tick = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), herd_.store.ttl);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::size_t forgotten = 0;
  for (;;) {
    const std::size_t now_forgotten = records_.forget_aged_out(now(), kAtOnce);
    forgotten += now_forgotten;
    if (now_forgotten == kAtOnce) {
      timer.expires_after(std::chrono::milliseconds(0));
    } else {
      if (forgotten > 0) log_.event("forgot " + std::to_string(forgotten) + " aged-out records");
      forgotten = 0;
      timer.expires_after(tick);
    }
    auto [error] = co_await timer.async_wait(use_tuple);
    if (error) co_return;
  }
}

asio::awaitable<std::string> Server::whatsat(protocol::Record record, protocol::WhatsAt request) {
  // Counted in before the check, in one step: sessions on other threads check at once.
  if (whatsats_waiting_.fetch_add(1) >= herd_.limits.max_whatsat_per_server) {
    --whatsats_waiting_;
    log_.failure("WHATSAT declined: " + std::to_string(herd_.limits.max_whatsat_per_server) +
                 " already waiting on the places source (limits.max_whatsat_per_server)");
    co_return protocol::whatsat_reply(record,
                                      protocol::collapse_newlines(protocol::places_error_body(
                                          "OVER_QUERY_LIMIT",
                                          "too many WHATSAT queries are waiting on this server's "
                                          "places source; no call made")));
  }
  places::PlacesQuery query{protocol::unsigned_plus(record.location.latitude),
                            protocol::unsigned_plus(record.location.longitude),
                            request.radius_metres};
  std::string body = co_await places_->nearby(std::move(query));
  --whatsats_waiting_;
  auto trimmed = protocol::trim_results(body, request.bound);
  if (!trimmed) {
    // Sources promise JSON; should one break that promise, the client still gets the shape.
    log_.failure("places source gave a body that is not a JSON object");
    trimmed = protocol::places_error_body("UNKNOWN_ERROR", "places source answer is not JSON");
  }
  co_return protocol::whatsat_reply(record, protocol::collapse_newlines(*trimmed));
}

}  // namespace herd::server
