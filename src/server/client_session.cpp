#include "server/client_session.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/reply.hpp"
#include "server/server.hpp"

namespace herd::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Lines read ahead of their replies. Past this the session stops reading until the client
// takes its replies, so a client that sends without reading holds bounded memory.
constexpr std::size_t kMaxPendingReplies = 256;

std::string describe(const tcp::socket& socket, std::uint64_t id) {
  boost::system::error_code error;
  auto endpoint = socket.remote_endpoint(error);
  std::string peer = "client " + std::to_string(id);
  if (!error) peer += " " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  return peer;
}

}  // namespace

ClientSession::ClientSession(tcp::socket socket, Server& server, std::uint64_t id)
    : socket_(std::move(socket)),
      server_(server),
      peer_(describe(socket_, id)),
      reply_ready_(socket_.get_executor()),
      room_for_more_(socket_.get_executor()) {}

void ClientSession::start() {
  server_.log().event(peer_ + " connected");
  auto executor = socket_.get_executor();
  asio::co_spawn(
      executor, [self = shared_from_this()] { return self->read_lines(); }, asio::detached);
  asio::co_spawn(
      executor, [self = shared_from_this()] { return self->write_replies(); }, asio::detached);
}

asio::awaitable<void> ClientSession::read_lines() {
  std::array<char, 8192> buffer{};
  std::vector<protocol::Line> lines;
  for (;;) {
    while (replies_.size() >= kMaxPendingReplies && socket_.is_open()) {
      co_await room_for_more_.wait();
    }
    auto [error, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
    lines.clear();
    if (error) {
      splitter_.finish(lines);
    } else {
      splitter_.feed(std::string_view(buffer.data(), n), lines);
    }
    for (const auto& line : lines) handle(line);
    if (error) break;
  }
  reading_done_ = true;
  reply_ready_.notify();
}

asio::awaitable<void> ClientSession::write_replies() {
  std::string out;
  for (;;) {
    // Everything ready at the head goes out in one write; a reply is never split.
    out.clear();
    while (!replies_.empty() && replies_.front()->ready) {
      const std::string& text = replies_.front()->text;
      if (!text.empty()) server_.log().sent(peer_, text);
      out += text;
      replies_.pop_front();
    }
    room_for_more_.notify();
    if (!out.empty()) {
      auto [error, n] = co_await asio::async_write(socket_, asio::buffer(out), use_tuple);
      if (error) {
        server_.log().failure(peer_ + " write failed: " + error.message());
        break;
      }
      continue;
    }
    if (reading_done_ && replies_.empty()) break;
    co_await reply_ready_.wait();
  }
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  room_for_more_.notify();
  server_.log().event(peer_ + " closed");
}

void ClientSession::answer_now(std::string text) {
  auto slot = std::make_shared<Slot>();
  slot->ready = true;
  slot->text = std::move(text);
  replies_.push_back(std::move(slot));
  reply_ready_.notify();
}

void ClientSession::handle(const protocol::Line& line) {
  server_.log().received(peer_, line.text);
  if (line.overlong) return answer_now(protocol::invalid_reply(line.text));
  if (protocol::is_blank(line.text)) return;

  auto request = protocol::parse_request(line.text);
  std::visit(
      [&](auto& parsed) {
        using T = std::decay_t<decltype(parsed)>;
        if constexpr (std::is_same_v<T, protocol::IamAt>) {
          answer_now(server_.handle_iamat(parsed));
        } else if constexpr (std::is_same_v<T, protocol::WhatsAt>) {
          auto record = server_.find(parsed.client_id);
          if (!record) return answer_now(protocol::invalid_reply(line.text));
          auto slot = std::make_shared<Slot>();
          replies_.push_back(slot);
          asio::co_spawn(
              socket_.get_executor(),
              [self = shared_from_this(), slot, record = std::move(*record),
               request = std::move(parsed)]() mutable {
                return self->answer_whatsat(std::move(slot), std::move(record), std::move(request));
              },
              asio::detached);
        } else if constexpr (std::is_same_v<T, protocol::At>) {
          // Only a neighbour that introduced itself may write records.
          if (!neighbour_) return answer_now(protocol::invalid_reply(line.text));
          server_.handle_at(parsed.record, *neighbour_);
        } else if constexpr (std::is_same_v<T, protocol::Hello>) {
          if (neighbour_ || !server_.is_neighbour(parsed.server_name)) {
            return answer_now(protocol::invalid_reply(line.text));
          }
          neighbour_ = parsed.server_name;
          server_.log().event(peer_ + " is neighbour " + *neighbour_);
          peer_ = "neighbour " + *neighbour_ + " (in)";
        } else {
          answer_now(protocol::invalid_reply(line.text));
        }
      },
      request);
}

asio::awaitable<void> ClientSession::answer_whatsat(std::shared_ptr<Slot> slot,
                                                    protocol::Record record,
                                                    protocol::WhatsAt request) {
  slot->text = co_await server_.whatsat(std::move(record), std::move(request));
  slot->ready = true;
  reply_ready_.notify();
}

}  // namespace herd::server
