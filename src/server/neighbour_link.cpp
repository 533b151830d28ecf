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
#include <string>
#include <utility>

#include "auth/link_auth.hpp"
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

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

NeighbourLink::NeighbourLink(asio::any_io_executor executor, std::string self,
                             config::ServerConfig neighbour, std::string secret, log::EventLog& log)
    : executor_(std::move(executor)),
      self_(std::move(self)),
      neighbour_(std::move(neighbour)),
      secret_(std::move(secret)),
      peer_("neighbour " + neighbour_.name + " (out)"),
      log_(log),
      wake_(executor_) {}

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

void NeighbourLink::send(const protocol::Record& record) {
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = unsent_.try_emplace(record.client_id, record);
    if (!inserted && protocol::is_newer(record, it->second)) it->second = record;
  }
  asio::post(executor_, [self = shared_from_this()] { self->wake_.notify(); });
}

void NeighbourLink::requeue(std::unordered_map<std::string, protocol::Record>&& batch) {
  std::lock_guard lock(mutex_);
  for (auto& [client, record] : batch) {
    auto [it, inserted] = unsent_.try_emplace(client, std::move(record));
    if (!inserted && protocol::is_newer(record, it->second)) it->second = std::move(record);
  }
}

asio::awaitable<void> NeighbourLink::run() {
  auto backoff = std::chrono::milliseconds(kFirstBackoff);
  asio::steady_timer pause(executor_);
  while (!stopped_) {
    if (co_await connect() && co_await introduce()) {
      backoff = kFirstBackoff;
      co_await deliver();
      if (stopped_) break;
      log_.failure("link to " + neighbour_.name + " lost; re-dialling");
      continue;
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
  boost::system::error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  socket_ = std::move(socket);
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
  std::string line;
  asio::steady_timer deadline(executor_, kHandshakeTimeout);
  auto outcome = co_await (
      asio::async_read_until(*socket, asio::dynamic_buffer(line, 1024), '\n', use_tuple) ||
      deadline.async_wait(use_tuple));
  if (outcome.index() == 1) co_return fail("no answer to the handshake in time");
  auto [read_error, length] = std::get<0>(outcome);
  if (read_error) co_return fail("handshake failed: " + read_error.message());
  line.resize(length - 1);  // the '\n' goes; a '\r' before it is white space to the parser
  log_.received(peer_, line);
  auto challenge = protocol::parse_challenge(line);
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

asio::awaitable<void> NeighbourLink::watch_for_close(std::shared_ptr<tcp::socket> socket) {
  // A neighbour never writes on a link it did not dial, save `?` for a line it refused;
  // reading tells us when the connection is gone even while we have nothing to send.
  std::array<char, 4096> sink{};
  for (;;) {
    auto [error, n] = co_await socket->async_read_some(asio::buffer(sink), use_tuple);
    if (error) break;
    log_.received(peer_, std::string_view(sink.data(), n));
  }
  socket->close();
  wake_.notify();
}

asio::awaitable<void> NeighbourLink::deliver() {
  auto socket = socket_;
  asio::co_spawn(
      executor_, [self = shared_from_this(), socket] { return self->watch_for_close(socket); },
      asio::detached);

  std::string text;
  for (;;) {
    if (!text.empty()) {
      auto [error, n] = co_await asio::async_write(*socket, asio::buffer(text), use_tuple);
      if (error) break;
      text.clear();
    }
    std::unordered_map<std::string, protocol::Record> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(unsent_);
    }
    if (batch.empty()) {
      if (!socket->is_open() || stopped_) break;
      co_await wake_.wait();
      if (!socket->is_open() || stopped_) break;
      continue;
    }
    for (const auto& [client, record] : batch) {
      log_.sent(peer_, record.at_line);
      text += record.at_line;
      text += '\n';
    }
    auto [error, n] = co_await asio::async_write(*socket, asio::buffer(text), use_tuple);
    if (error) {
      requeue(std::move(batch));
      break;
    }
    text.clear();
  }
  socket->close();
  log_.event("link to " + neighbour_.name + " closed");
}

}  // namespace herd::server
