#include "canned_http_server.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace herd::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void run_openssl(const fs::path& dir, const std::string& arguments) {
  std::string command = "cd '" + dir.string() + "' && openssl " + arguments + " >>openssl.log 2>&1";
  // std::system is not thread safe, but this runs only while a test sets up its PKI, before
  // it starts any thread.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("openssl failed: " + arguments + " (see " +
                             (dir / "openssl.log").string() + ")");
  }
}

// The Content-Length of a request head, 0 if it has none.
std::size_t content_length(const std::string& head) {
  std::string lower;
  for (char c : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return std::stoul(head.substr(at + 17));
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TestPki::TestPki() {
  std::random_device random;
  dir = fs::temp_directory_path() /
        ("herd-places-pki-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  fs::create_directories(dir);
  ca = dir / "ca.pem";
  server_cert = dir / "server.pem";
  server_key = dir / "server.key";
  other_cert = dir / "other.pem";
  other_key = dir / "other.key";

  const std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  run_openssl(dir,
              "req -x509 " + ec_key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=herd-test-ca");
  write_file(dir / "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  write_file(dir / "other.ext", "subjectAltName=DNS:elsewhere.example\n");
  for (const std::string name : {"server", "other"}) {
    std::string request = "req ";
    request.append(ec_key).append(" -keyout ").append(name).append(".key -out ");
    request.append(name).append(".csr -subj /CN=").append(name);
    run_openssl(dir, request);
    std::string sign = "x509 -req -in ";
    sign.append(name).append(".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out ");
    sign.append(name).append(".pem -extfile ").append(name).append(".ext");
    run_openssl(dir, sign);
  }
}

TestPki::~TestPki() {
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

std::string http_answer(int status, const std::string& body, const std::string& content_type) {
  return "HTTP/1.1 " + std::to_string(status) + " Canned\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct CannedServer::Impl {
  explicit Impl(CannedServerOptions o) : options(std::move(o)) {
    if (!options.cert.empty()) {
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain_file(options.cert.string());
      tls->use_private_key_file(options.key.string(), ssl::context::pem);
    }
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    io.stop();
    thread.join();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;
      ++accepts;
      if (tls) {
        asio::co_spawn(io, serve_tls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io, serve(std::move(socket)), asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (!ec) {
      co_await serve_requests(stream);
    }
    stream.lowest_layer().close();
    ++closed;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    co_await serve_requests(socket);
    socket.close();
    ++closed;
  }

  template <class Stream>
  asio::awaitable<void> serve_requests(Stream& stream) {
    std::string buffer;
    for (;;) {
      auto [read_ec, length] =
          co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", kTuple);
      if (read_ec) co_return;
      const std::size_t body_length = content_length(buffer.substr(0, length));
      if (buffer.size() < length + body_length) {
        auto [body_ec, ignored] = co_await asio::async_read(
            stream, asio::dynamic_buffer(buffer),
            asio::transfer_exactly(length + body_length - buffer.size()), kTuple);
        if (body_ec) co_return;
      }
      {
        std::lock_guard lock(mutex);
        requests.push_back(buffer.substr(0, length + body_length));
      }
      buffer.erase(0, length + body_length);
      if (options.never_answer) {
        asio::steady_timer hold(io, std::chrono::hours(1));
        co_await hold.async_wait(kTuple);
        co_return;
      }
      auto [write_ec, written] =
          co_await asio::async_write(stream, asio::buffer(options.answer), kTuple);
      if (write_ec || options.close_after_answer) co_return;
    }
  }

  CannedServerOptions options;
  std::optional<ssl::context> tls;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;
  std::thread thread;
  std::atomic<int> accepts{0};
  std::atomic<int> closed{0};
  mutable std::mutex mutex;
  std::vector<std::string> requests;
};

CannedServer::CannedServer(CannedServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CannedServer::~CannedServer() = default;

std::uint16_t CannedServer::port() const {
  return impl_->port;
}
int CannedServer::accepts() const {
  return impl_->accepts;
}
int CannedServer::closed() const {
  return impl_->closed;
}

std::vector<std::string> CannedServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

bool CannedServer::wait_closed(int count) const {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (impl_->closed < count) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::uint16_t unused_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace herd::testing
