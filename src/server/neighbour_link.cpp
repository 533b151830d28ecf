#include "server/neighbour_link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "auth/link_auth.hpp"
#include "net/self_connection.hpp"
#include "protocol/reply.hpp"
#include "protocol/request.hpp"

namespace herd::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kFirstBackoff = 100ms;
constexpr auto kMaxBackoff = 2000ms;
constexpr auto kConnectTimeout = 2000ms;
constexpr auto kHandshakeTimeout = 5000ms;
// Records a batch: enough to fill a few TCP segments, small enough that a catch-up of a
// million records holds the store's lock only briefly at a time.
constexpr std::size_t kBatchRecords = 512;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

NeighbourLink::NeighbourLink(asio::any_io_executor executor, std::string self,
                             config::ServerConfig neighbour, std::string secret, log::EventLog& log,
                             const store::RecordStore& records, const store::Journal& journal)
    : executor_(std::move(executor)),
      self_(std::move(self)),
      neighbour_(std::move(neighbour)),
      secret_(std::move(secret)),
      peer_("neighbour " + neighbour_.name + " (out)"),
      log_(log),
      records_(records),
      journal_(journal),
      wake_(executor_),
      wake_soon_(
          [this](std::function<void()> work) {
            // The posted work keeps the link alive until it runs.
            asio::post(executor_, [self = shared_from_this(), work = std::move(work)] { work(); });
          },
          [this] { wake_.notify(); }) {}

void NeighbourLink::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void NeighbourLink::stop() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopped_ = true;
    if (self->socket_) self->socket_->close();
    self->wake_.notify();
  });
}

void NeighbourLink::wake() {
  // One wake-up under way is enough: the link reads the journal's progress when it runs.
  wake_soon_.request();
}

asio::awaitable<void> NeighbourLink::run() {
  auto backoff = std::chrono::milliseconds(kFirstBackoff);
  asio::steady_timer pause(executor_);
  while (!stopped_) {
    if (co_await connect() && co_await introduce()) {
      if (auto since = co_await read_since()) {
        backoff = kFirstBackoff;
        co_await deliver(std::move(*since));
        if (stopped_) break;
        log_.failure("link to " + neighbour_.name + " lost; re-dialling");
        continue;
      }
    }
    if (stopped_) break;
    log_.event("link to " + neighbour_.name + ": retrying in " + std::to_string(backoff.count()) +
               " ms");
    pause.expires_after(backoff);
    co_await pause.async_wait(use_tuple);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kMaxBackoff));
  }
}

asio::awaitable<bool> NeighbourLink::connect() {
  const std::string where = neighbour_.host + ":" + std::to_string(neighbour_.port);
  tcp::resolver resolver(executor_);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(neighbour_.host, std::to_string(neighbour_.port), use_tuple);
  if (resolve_error) {
    log_.failure("link to " + neighbour_.name + ": cannot resolve " + where + ": " +
                 resolve_error.message());
    co_return false;
  }

  auto socket = std::make_shared<tcp::socket>(executor_);
  asio::steady_timer deadline(executor_, kConnectTimeout);
  auto outcome = co_await (asio::async_connect(*socket, endpoints, use_tuple) ||
                           deadline.async_wait(use_tuple));
  if (outcome.index() == 1) {
    log_.failure("link to " + neighbour_.name + ": connect to " + where + " timed out");
    co_return false;
  }
  auto [connect_error, endpoint] = std::get<0>(outcome);
  if (connect_error) {
    log_.failure("link to " + neighbour_.name + ": connect to " + where +
                 " failed: " + connect_error.message());
    co_return false;
  }
  if (net::connected_to_itself(*socket)) {
    net::reset(*socket);
    log_.failure("link to " + neighbour_.name + ": connected to itself at " + where + ", " +
                 std::string(net::kWhyItself));
    co_return false;
  }
  boost::system::error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  socket_ = std::move(socket);
  inbox_.clear();
  log_.event("link to " + neighbour_.name + " " + where + " opened");
  co_return true;
}

asio::awaitable<bool> NeighbourLink::introduce() {
  auto socket = socket_;
  auto fail = [&](const std::string& why) {
    log_.failure("link to " + neighbour_.name + ": " + why);
    boost::system::error_code ignored;
    socket->close(ignored);
    return false;
  };
  if (secret_.empty()) {
    const std::string hello = protocol::hello_line(self_);
    log_.sent(peer_, hello);
    auto [error, n] = co_await asio::async_write(*socket, asio::buffer(hello), use_tuple);
    co_return error ? fail("write failed: " + error.message()) : true;
  }

  // HERD me nonce -> CHALLENGE nonce proof -> PROOF proof; see auth/link_auth.hpp.
  const std::string nonce = auth::make_nonce();
  const std::string hello = protocol::hello_line(self_, nonce);
  log_.sent(peer_, hello);
  if (auto [error, n] = co_await asio::async_write(*socket, asio::buffer(hello), use_tuple);
      error) {
    co_return fail("write failed: " + error.message());
  }
  auto line = co_await read_line("CHALLENGE");
  if (!line) co_return false;
  auto challenge = protocol::parse_challenge(*line);
  if (!challenge) co_return fail("handshake refused (is the link secret set on both sides?)");
  const auto expected =
      auth::acceptor_proof(secret_, neighbour_.name, self_, nonce, challenge->nonce);
  if (!auth::same_proof(challenge->mac, expected)) {
    co_return fail("the neighbour does not hold the link secret; not linking");
  }
  const std::string proof =
      "PROOF " + auth::dialler_proof(secret_, self_, neighbour_.name, challenge->nonce, nonce) +
      "\n";
  log_.sent(peer_, proof);
  if (auto [error, n] = co_await asio::async_write(*socket, asio::buffer(proof), use_tuple);
      error) {
    co_return fail("write failed: " + error.message());
  }
  log_.event("link to " + neighbour_.name + " authenticated");
  co_return true;
}

asio::awaitable<std::optional<std::string>> NeighbourLink::read_line(std::string_view waiting_for) {
  auto socket = socket_;
  asio::steady_timer deadline(executor_, kHandshakeTimeout);
  auto outcome = co_await (
      asio::async_read_until(*socket, asio::dynamic_buffer(inbox_, 1024), '\n', use_tuple) ||
      deadline.async_wait(use_tuple));
  std::string why;
  if (outcome.index() == 1) {
    why = "no " + std::string(waiting_for) + " from the neighbour in time";
  } else if (auto [error, length] = std::get<0>(outcome); error) {
    why = "reading " + std::string(waiting_for) + " failed: " + error.message();
  } else {
    // The '\n' goes; a '\r' before it is white space to the parsers.
    std::string line = inbox_.substr(0, length - 1);
    inbox_.erase(0, length);
    log_.received(peer_, line);
    co_return line;
  }
  log_.failure("link to " + neighbour_.name + ": " + why);
  boost::system::error_code ignored;
  socket->close(ignored);
  co_return std::nullopt;
}

asio::awaitable<std::optional<protocol::StorePosition>> NeighbourLink::read_since() {
  auto line = co_await read_line("SINCE");
  if (!line) co_return std::nullopt;
  auto since = protocol::parse_since(*line);
  if (!since) {
    log_.failure("link to " + neighbour_.name + ": expected SINCE <store> <lsn>; closing");
    socket_->close();
  }
  co_return since;
}

asio::awaitable<void> NeighbourLink::watch_for_close(std::shared_ptr<tcp::socket> socket) {
  // A neighbour never writes on a link it did not dial, save `?` for a line it refused;
  // reading tells us when the connection is gone even while we have nothing to send.
  if (!inbox_.empty()) log_.received(peer_, inbox_);
  inbox_.clear();
  std::array<char, 4096> sink{};
  for (;;) {
    auto [error, n] = co_await socket->async_read_some(asio::buffer(sink), use_tuple);
    if (error) break;
    log_.received(peer_, std::string_view(sink.data(), n));
  }
  socket->close();
  wake_.notify();
}

asio::awaitable<void> NeighbourLink::deliver(protocol::StorePosition since) {
  auto socket = socket_;
  asio::co_spawn(
      executor_, [self = shared_from_this(), socket] { return self->watch_for_close(socket); },
      asio::detached);

  // Where to start: after the neighbour's position if it is one in this store, at the
  // beginning otherwise (a neighbour that is new, lost its file, or knew our store before
  // we lost ours).
  const std::string& store_id = records_.store_id();
  std::uint64_t after = 0;
  if (since.store_id == store_id && since.lsn <= records_.last_seq()) after = since.lsn;
  // Up to here, this is catch-up: everything is sent, even records that came from the
  // neighbour itself, which it may have lost (docs/catch-up.md). Beyond, the neighbour is
  // linked and holds what it sent us.
  const std::uint64_t catch_up_to = journal_.committed();
  std::size_t caught_up = 0;
  bool catching_up = after < catch_up_to;
  log_.event("link to " + neighbour_.name + ": " +
             (after == 0 ? std::string("sending every record")
                         : "sending records after " + std::to_string(after)) +
             (catching_up ? "; catching up to " + std::to_string(catch_up_to) : "; up to date"));
  const auto started = std::chrono::steady_clock::now();

  std::string text;
  while (socket->is_open() && !stopped_) {
    const std::uint64_t up_to = journal_.committed();
    if (after >= up_to) {
      co_await wake_.wait();
      continue;
    }
    auto batch = records_.read_since(after, up_to, neighbour_.name, catch_up_to, kBatchRecords);
    // A batch with no record for this neighbour (only its own records, or no records at
    // all: a neighbour's MARK is a change too) goes unmarked. Marking it would move the
    // neighbour's position, a change that wakes its links, whose MARKs would wake ours,
    // for ever. The neighbour's position then lags by records it has anyway.
    if (!batch.at_lines.empty()) {
      text.clear();
      for (const auto& at_line : batch.at_lines) {
        log_.sent(peer_, at_line);
        text += at_line;
        text += '\n';
      }
      const std::string mark = protocol::mark_line({store_id, batch.mark});
      log_.sent(peer_, std::string_view(mark).substr(0, mark.size() - 1));
      text += mark;
      auto [error, n] = co_await asio::async_write(*socket, asio::buffer(text), use_tuple);
      if (error) break;
    }
    after = batch.through;
    if (catching_up) {
      caught_up += batch.at_lines.size();
      if (after >= catch_up_to) {
        catching_up = false;
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        log_.event("link to " + neighbour_.name + ": caught up, " + std::to_string(caught_up) +
                   " records sent in " + std::to_string(took.count()) + " ms");
      }
    }
  }
  socket->close();
  log_.event("link to " + neighbour_.name + " closed");
}

}  // namespace herd::server
