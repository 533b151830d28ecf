#include "server/client_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "auth/link_auth.hpp"
#include "protocol/reply.hpp"
#include "server/server.hpp"

namespace herd::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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
      requests_(server.limits().requests_per_second, server.limits().request_burst, Clock::now()),
      last_line_at_(Clock::now()),
      deadline_(socket_.get_executor()),
      reply_ready_(socket_.get_executor()),
      room_for_more_(socket_.get_executor()) {}

void ClientSession::start() {
  server_.log().event(peer_ + " connected");
  auto executor = socket_.get_executor();
  auto self = shared_from_this();
  asio::co_spawn(
      executor, [self] { return self->read_lines(); }, asio::detached);
  asio::co_spawn(
      executor, [self] { return self->write_replies(); }, asio::detached);
  asio::co_spawn(
      executor, [self] { return self->watch_deadlines(); }, asio::detached);
}

bool ClientSession::must_wait_before_reading() const {
  const auto& limits = server_.limits();
  return replies_.size() >= limits.max_pending_replies ||
         whatsats_pending_ >= limits.max_whatsat_per_connection;
}

asio::awaitable<void> ClientSession::read_lines() {
  std::vector<char> buffer;
  std::vector<protocol::Line> lines;
  for (;;) {
    buffer.resize(neighbour_ ? kNeighbourReadBytes : kClientReadBytes);
    // Braces on one-line co_await bodies: clang-tidy 14 cannot tell where a co_await ends
    // and takes the statement for a long one (readability-braces-around-statements).
    while (must_wait_before_reading() && !closed_) {
      co_await room_for_more_.wait();
    }
    auto [error, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
    lines.clear();
    if (error) {
      splitter_.finish(lines);
    } else {
      splitter_.feed(std::string_view(buffer.data(), n), lines);
    }
    for (const auto& line : lines) {
      // The caps hold line by line too: one read may bring many lines.
      while (must_wait_before_reading() && !closed_) {
        co_await room_for_more_.wait();
      }
      // A line that ended the session (a failed handshake) ends the reading too: the
      // lines that came with it in this read are not handled.
      if (closed_ || reading_done_) break;
      last_line_at_ = Clock::now();
      if (!neighbour_ && server_.limits().requests_per_second > 0) {
        co_await pace();
      }
      handle(line);
    }
    if (error || closed_ || reading_done_) break;
  }
  reading_done_ = true;
  reply_ready_.notify();
}

asio::awaitable<void> ClientSession::pace() {
  // A client past its rate waits; its lines are delayed, never dropped.
  for (;;) {
    auto wait = requests_.time_to_next(Clock::now());
    if (wait == Clock::duration::zero()) break;
    asio::steady_timer timer(socket_.get_executor(), wait);
    co_await timer.async_wait(use_tuple);
  }
  requests_.try_take(Clock::now());
}

asio::awaitable<void> ClientSession::write_replies() {
  std::string out;
  for (;;) {
    // Everything ready at the head goes out in one write; a reply is never split.
    out.clear();
    take_ready_replies(out);
    room_for_more_.notify();
    if (!out.empty()) {
      write_started_at_ = Clock::now();
      // The watchdog may be asleep until a later deadline: wake it to watch this write.
      if (deadline_.expiry() > *write_started_at_ + server_.limits().write_timeout) {
        deadline_.cancel();
      }
      auto [error, n] = co_await asio::async_write(socket_, asio::buffer(out), use_tuple);
      write_started_at_.reset();
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
  closed_ = true;
  deadline_.cancel();
  room_for_more_.notify();
  server_.session_closed();
  server_.log().event(peer_ + " closed");
}

asio::awaitable<void> ClientSession::watch_deadlines() {
  const auto& limits = server_.limits();
  while (!closed_) {
    const auto now = Clock::now();
    if (write_started_at_ && now - *write_started_at_ >= limits.write_timeout) {
      // The client stopped taking its replies: what it has not read is dropped with it.
      server_.log().failure(peer_ + " took no reply for " +
                            std::to_string(limits.write_timeout.count()) +
                            " ms (limits.write_timeout_ms); disconnected");
      boost::system::error_code ignored;
      socket_.close(ignored);
      co_return;
    }
    if (!neighbour_ && !reading_done_ && now - last_line_at_ >= limits.idle_timeout) {
      end_session("sent no complete line for " + std::to_string(limits.idle_timeout.count()) +
                  " ms (limits.idle_timeout_ms)");
    }
    auto next = last_line_at_ + limits.idle_timeout;
    if (write_started_at_) next = std::min(next, *write_started_at_ + limits.write_timeout);
    if (neighbour_ || reading_done_) {
      next = write_started_at_ ? *write_started_at_ + limits.write_timeout
                               : now + limits.write_timeout;
    }
    deadline_.expires_at(std::max(next, now + std::chrono::milliseconds(10)));
    co_await deadline_.async_wait(use_tuple);
  }
}

void ClientSession::end_session(std::string_view why) {
  // Reading stops as at end of stream: pending replies still go out, then the close.
  server_.log().event(peer_ + " " + std::string(why) + "; closing");
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_receive, ignored);
  reading_done_ = true;
  reply_ready_.notify();
}

void ClientSession::queue_reply(std::string_view text, std::uint64_t commit) {
  const std::uint64_t begin = texts_start_ + texts_.size();
  texts_ += text;
  replies_.push_back(Reply{begin, begin + text.size(), commit, nullptr});
  if (replies_.size() == 1) reply_ready_.notify();  // else the writer waits for the head
}

bool ClientSession::is_ready(const Reply& reply) const {
  return reply.answer ? reply.answer->ready : server_.is_committed(reply.commit);
}

void ClientSession::take_ready_replies(std::string& out) {
  while (!replies_.empty() && is_ready(replies_.front())) {
    const Reply& reply = replies_.front();
    const std::string_view text =
        reply.answer
            ? std::string_view(reply.answer->text)
            : std::string_view(texts_).substr(reply.begin - texts_start_, reply.end - reply.begin);
    if (!text.empty()) server_.log().sent(peer_, text);
    out += text;
    if (!reply.answer) {
      // The texts before this one are taken too: drop them once they are the buffer's
      // larger part, so that it stays about as long as the texts waiting.
      const auto taken = static_cast<std::size_t>(reply.end - texts_start_);
      if (taken >= texts_.size() / 2) {
        texts_.erase(0, taken);
        texts_start_ = reply.end;
      }
    }
    replies_.pop_front();
  }
  if (!replies_.empty() && !replies_.front().answer && !waiting_for_commit_) {
    wait_for_commit(replies_.front().commit);
  }
}

void ClientSession::wait_for_commit(std::uint64_t seq) {
  waiting_for_commit_ = true;
  server_.when_committed(seq, [self = shared_from_this()] {
    asio::post(self->socket_.get_executor(), [self] {
      self->waiting_for_commit_ = false;
      self->reply_ready_.notify();
    });
  });
}

void ClientSession::handle(const protocol::Line& line) {
  server_.log().received(peer_, line.text);
  if (line.overlong) return answer_now(protocol::invalid_reply(line.text));
  if (protocol::is_blank(line.text)) return;

  const auto max_client_id = server_.limits().max_client_id;
  auto request = protocol::parse_request(line.text);
  std::visit(
      [&](auto& parsed) {
        using T = std::decay_t<decltype(parsed)>;
        if constexpr (std::is_same_v<T, protocol::IamAt>) {
          if (parsed.client_id.size() > max_client_id) {
            return answer_now(protocol::invalid_reply(line.text));
          }
          auto acknowledgement = server_.handle_iamat(parsed);
          if (!acknowledgement) return answer_now(protocol::invalid_reply(line.text));
          answer_once_committed(*acknowledgement);
        } else if constexpr (std::is_same_v<T, protocol::WhatsAt>) {
          auto record = parsed.client_id.size() > max_client_id ? std::nullopt
                                                                : server_.find(parsed.client_id);
          if (!record) return answer_now(protocol::invalid_reply(line.text));
          auto answer = std::make_shared<Answer>();
          replies_.push_back(Reply{0, 0, 0, answer});
          ++whatsats_pending_;
          asio::co_spawn(
              socket_.get_executor(),
              [self = shared_from_this(), answer, record = std::move(*record),
               request = std::move(parsed)]() mutable {
                return self->answer_whatsat(std::move(answer), std::move(record),
                                            std::move(request));
              },
              asio::detached);
        } else if constexpr (std::is_same_v<T, protocol::At>) {
          // Only a neighbour that introduced itself (and proved it, with a secret) may
          // write records.
          if (!neighbour_) return answer_now(protocol::invalid_reply(line.text));
          server_.handle_at(parsed.record, *neighbour_);
        } else if constexpr (std::is_same_v<T, protocol::Mark>) {
          if (!neighbour_) return answer_now(protocol::invalid_reply(line.text));
          server_.handle_mark(*neighbour_, parsed.position);
        } else if constexpr (std::is_same_v<T, protocol::Hello>) {
          handle_hello(parsed, line.text);
        } else if constexpr (std::is_same_v<T, protocol::Proof>) {
          handle_proof(parsed, line.text);
        } else {
          answer_now(protocol::invalid_reply(line.text));
        }
      },
      request);
}

void ClientSession::handle_hello(const protocol::Hello& hello, const std::string& line) {
  if (neighbour_ || handshake_ || !server_.is_neighbour(hello.server_name)) {
    return answer_now(protocol::invalid_reply(line));
  }
  const std::string& secret = server_.link_secret();
  if (secret.empty()) {
    if (!hello.nonce.empty()) {
      return end_session("offered an authenticated link as " + hello.server_name +
                         ", but this server has no link secret");
    }
    return become_neighbour(hello.server_name, "unauthenticated");
  }
  if (hello.nonce.empty()) {
    return end_session("claimed to be neighbour " + hello.server_name +
                       " without authenticating; refused");
  }
  Handshake handshake{hello.server_name, hello.nonce, auth::make_nonce()};
  answer_now("CHALLENGE " + handshake.acceptor_nonce + " " +
             auth::acceptor_proof(secret, server_.name(), handshake.neighbour,
                                  handshake.dialler_nonce, handshake.acceptor_nonce) +
             "\n");
  handshake_ = std::move(handshake);
}

void ClientSession::handle_proof(const protocol::Proof& proof, const std::string& line) {
  if (!handshake_ || neighbour_) return answer_now(protocol::invalid_reply(line));
  const auto expected =
      auth::dialler_proof(server_.link_secret(), handshake_->neighbour, server_.name(),
                          handshake_->acceptor_nonce, handshake_->dialler_nonce);
  if (!auth::same_proof(proof.mac, expected)) {
    return end_session("failed to authenticate as neighbour " + handshake_->neighbour);
  }
  become_neighbour(handshake_->neighbour, "authenticated");
}

void ClientSession::become_neighbour(const std::string& name, std::string_view how) {
  neighbour_ = name;
  handshake_.reset();
  server_.log().event(peer_ + " is neighbour " + name + " (" + std::string(how) + ")");
  peer_ = "neighbour " + name + " (in)";
  // Where its catch-up starts: everything after what it had sent us before.
  answer_now(protocol::since_line(server_.position_of(name)));
}

asio::awaitable<void> ClientSession::answer_whatsat(std::shared_ptr<Answer> answer,
                                                    protocol::Record record,
                                                    protocol::WhatsAt request) {
  answer->text = co_await server_.whatsat(std::move(record), std::move(request));
  answer->ready = true;
  --whatsats_pending_;
  reply_ready_.notify();
  room_for_more_.notify();
}

}  // namespace herd::server
