#include "places/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "net/self_connection.hpp"

namespace herd::places {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// A hostile upstream must not be able to exhaust memory.
constexpr std::uint64_t kBodyLimit = std::uint64_t{8} * 1024 * 1024;
// Idle connections kept per origin; more concurrent requests than this still work, their
// connections are just not kept.
constexpr std::size_t kIdlePerOrigin = 16;
// Servers drop idle keep-alive connections after a while; reusing an older one would only
// cost a retry.
constexpr auto kIdleLifetime = std::chrono::seconds(30);

struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  // path and query, never empty

  // "host:port", fit for a message: no path, no query.
  std::string origin() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  std::string pool_key() const { return (tls ? "https://" : "http://") + origin(); }
};

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The message of a bad URL names its scheme and authority at most: the query may hold a key.
[[noreturn]] void bad_url(std::string_view why) {
  throw HttpError("bad places URL: " + std::string(why));
}

Url parse_url(std::string_view text) {
  Url url;
  if (starts_with_nocase(text, "https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else if (starts_with_nocase(text, "http://")) {
    text.remove_prefix(7);
  } else {
    bad_url("it must start with http:// or https://");
  }
  std::size_t end = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? "" : text.substr(end);
  if (authority.find('@') != std::string_view::npos) bad_url("user information is not supported");

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) bad_url("unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad_url("unexpected text after the host");
      port = after.substr(1);
    }
  } else {
    std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) bad_url("no host");
  if (port.empty()) {
    url.port = url.tls ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      bad_url("bad port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }

  rest = rest.substr(0, rest.find('#'));
  url.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return url;
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One connection to one origin, with its own strand: Beast's streams want every operation
// on one strand, and a connection moves between requests (and threads) through the pool.
struct Connection {
  using Executor = asio::strand<asio::any_io_executor>;

  Connection(const asio::any_io_executor& executor, const Url& url, ssl::context& context)
      : strand(asio::make_strand(executor)) {
    if (url.tls) {
      secure.emplace(strand, context);
    } else {
      plain.emplace(strand);
    }
  }

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  Executor strand;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

// What one attempt on one connection came to.
struct Attempt {
  std::optional<HttpResponse> response;
  std::string error;           // when there is no response
  bool before_answer = false;  // failed before any byte of an answer arrived
  bool not_connected = false;  // the TCP connection could not be made: nothing was sent
  bool keep = false;           // the connection may serve another request
};

std::string timed_out(std::chrono::milliseconds timeout, const Url& url) {
  return "request to " + url.origin() + " timed out after " + std::to_string(timeout.count()) +
         " ms";
}

std::string tls_failure(const Url& url, const error_code& ec, SSL* ssl) {
  std::string why = ec.message();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  return "TLS handshake with " + url.origin() + " failed: " + why;
}

bool idempotent(http::verb verb) {
  return verb == http::verb::get || verb == http::verb::head || verb == http::verb::options;
}

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(asio::any_io_executor ex, std::chrono::milliseconds t)
      : executor(std::move(ex)), timeout(t), tls(ssl::context::tls_client) {}

  std::shared_ptr<Connection> take_idle(const std::string& key) {
    std::lock_guard lock(mutex);
    auto found = idle.find(key);
    if (found == idle.end()) return nullptr;
    auto& list = found->second;
    auto now = Clock::now();
    while (!list.empty()) {
      auto connection = std::move(list.back());  // the most recently used is the least stale
      list.pop_back();
      if (now - connection->idle_since < kIdleLifetime) return connection;
    }
    return nullptr;
  }

  void give_back(const std::string& key, std::shared_ptr<Connection> connection) {
    connection->idle_since = Clock::now();
    std::lock_guard lock(mutex);
    auto& list = idle[key];
    if (list.size() < kIdlePerOrigin) list.push_back(std::move(connection));
  }

  asio::awaitable<void> connect(Connection& connection, const Url& url, Clock::time_point deadline,
                                Attempt& out) {
    using namespace asio::experimental::awaitable_operators;
    tcp::resolver resolver(connection.strand);
    asio::steady_timer timer(connection.strand, deadline);
    auto raced = co_await (resolver.async_resolve(url.host, std::to_string(url.port),
                                                  tcp::resolver::numeric_service,
                                                  asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (raced.index() == 1) {
      out.error = timed_out(timeout, url);
      co_return;
    }
    auto [resolve_ec, endpoints] = std::get<0>(std::move(raced));
    if (resolve_ec) {
      out.error = "resolve " + url.host + " failed: " + resolve_ec.message();
      co_return;
    }

    beast::tcp_stream& stream = connection.tcp();
    stream.expires_at(deadline);
    auto [connect_ec, endpoint] =
        co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_ec) {
      out.not_connected = connect_ec != beast::error::timeout;
      out.error = connect_ec == beast::error::timeout
                      ? timed_out(timeout, url)
                      : "connect to " + url.origin() + " failed: " + connect_ec.message();
      co_return;
    }
    if (net::connected_to_itself(stream.socket())) {
      net::reset(stream.socket());
      out.not_connected = true;  // nothing was sent: the request may be tried once more
      out.error = "connect to " + url.origin() + " failed: connected to itself, " +
                  std::string(net::kWhyItself);
      co_return;
    }
    if (!connection.secure) co_return;

    SSL* native = connection.secure->native_handle();
    // OpenSSL's own host check (rather than a verify callback) so that a mismatch is
    // reported as such in the verify result.
    bool checked = is_ip_address(url.host)
                       ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), url.host.c_str())
                       : SSL_set1_host(native, url.host.c_str()) &&
                             SSL_set_tlsext_host_name(native, url.host.c_str());
    if (!checked) {
      out.error = "TLS setup for " + url.origin() + " failed: cannot set the host to verify";
      co_return;
    }
    auto [handshake_ec] = co_await connection.secure->async_handshake(
        ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (handshake_ec) {
      out.error = Clock::now() >= deadline ? timed_out(timeout, url)
                                           : tls_failure(url, handshake_ec, native);
    }
  }

  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream, Connection& connection, const Url& url,
                                 const http::request<http::string_body>& message,
                                 Clock::time_point deadline, Attempt& out) {
    connection.tcp().expires_at(deadline);
    auto [write_ec, written] =
        co_await http::async_write(stream, message, asio::as_tuple(asio::use_awaitable));
    if (write_ec) {
      out.before_answer = true;
      out.error = write_ec == beast::error::timeout
                      ? timed_out(timeout, url)
                      : "send to " + url.origin() + " failed: " + write_ec.message();
      co_return;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    if (message.method() == http::verb::head) parser.skip(true);
    auto [read_ec, read] = co_await http::async_read(stream, connection.buffer, parser,
                                                     asio::as_tuple(asio::use_awaitable));
    if (read_ec) {
      out.before_answer = !parser.got_some() && connection.buffer.size() == 0;
      if (read_ec == beast::error::timeout) {
        out.error = timed_out(timeout, url);
      } else if (read_ec == http::error::body_limit) {
        out.error = "answer from " + url.origin() + " is larger than " +
                    std::to_string(kBodyLimit) + " bytes";
      } else {
        out.error = "read from " + url.origin() + " failed: " + read_ec.message();
      }
      co_return;
    }
    auto response = parser.release();
    // Bytes beyond the answer would be read as the start of the next one.
    out.keep = response.keep_alive() && connection.buffer.size() == 0;
    out.response.emplace();
    out.response->status = static_cast<int>(response.result_int());
    out.response->body = std::move(response.body());
  }

  // Runs on the connection's strand. Owns what it uses, so that nothing dangles whatever
  // order coroutine frames are destroyed in when the event loop shuts down.
  asio::awaitable<Attempt> attempt(std::shared_ptr<Connection> owned, bool fresh, Url url,
                                   std::shared_ptr<const http::request<http::string_body>> message,
                                   Clock::time_point deadline) {
    auto self = shared_from_this();
    Connection& connection = *owned;
    Attempt out;
    if (fresh) {
      co_await connect(connection, url, deadline, out);
      if (!out.error.empty()) co_return out;
    }
    if (connection.secure) {
      co_await exchange(*connection.secure, connection, url, *message, deadline, out);
    } else {
      co_await exchange(*connection.plain, connection, url, *message, deadline, out);
    }
    if (!out.error.empty() && Clock::now() >= deadline) out.error = timed_out(timeout, url);
    connection.tcp().expires_never();
    co_return out;
  }

  asio::awaitable<HttpResponse> request(HttpRequest request) {
    Url url = parse_url(request.url);
    Clock::time_point deadline = Clock::now() + timeout;

    http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) throw HttpError("unsupported HTTP method " + request.method);
    auto message = std::make_shared<http::request<http::string_body>>(verb, url.target, 11);
    bool default_port = url.port == (url.tls ? 443 : 80);
    std::string host_header = url.origin();
    if (default_port) host_header.resize(host_header.rfind(':'));
    message->set(http::field::host, host_header);
    message->set(http::field::user_agent, "herd/0.1");
    for (const auto& [name, value] : request.headers) message->set(name, value);
    if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put) {
      message->body() = std::move(request.body);
      message->prepare_payload();
    }

    std::string key = url.pool_key();
    std::shared_ptr<Connection> connection = take_idle(key);
    bool reused = connection != nullptr;
    if (!connection) connection = std::make_shared<Connection>(executor, url, tls);
    Attempt out = co_await asio::co_spawn(connection->strand,
                                          attempt(connection, !reused, url, message, deadline),
                                          asio::use_awaitable);

    // A kept-alive connection the server has closed meanwhile fails before any answer;
    // that is no fault of the server, so one fresh connection gets the request again. A
    // connection that could not be made carried nothing, so any method may be tried again.
    const bool stale = reused && !out.response && out.before_answer && idempotent(verb);
    const bool unsent = !out.response && out.not_connected;
    if ((stale || unsent) && Clock::now() < deadline) {
      connection = std::make_shared<Connection>(executor, url, tls);
      out = co_await asio::co_spawn(connection->strand,
                                    attempt(connection, true, url, message, deadline),
                                    asio::use_awaitable);
    }
    if (!out.response) throw HttpError(out.error);
    if (out.keep) give_back(key, std::move(connection));
    co_return std::move(*out.response);
  }

  asio::any_io_executor executor;
  std::chrono::milliseconds timeout;
  ssl::context tls;
  std::mutex mutex;
  std::map<std::string, std::deque<std::shared_ptr<Connection>>> idle;
};

HttpClient::HttpClient(boost::asio::any_io_executor executor, const std::string& ca_file,
                       std::chrono::milliseconds timeout)
    : impl_(std::make_shared<Impl>(std::move(executor), timeout)) {
  error_code ec;
  impl_->tls.set_default_verify_paths(ec);
  if (ec) throw HttpError("cannot load the system's CA certificates: " + ec.message());
  if (!ca_file.empty()) {
    impl_->tls.load_verify_file(ca_file, ec);
    if (ec) throw HttpError("cannot load CA file " + ca_file + ": " + ec.message());
  }
  impl_->tls.set_verify_mode(ssl::verify_peer);
}

HttpClient::~HttpClient() = default;

boost::asio::awaitable<HttpResponse> HttpClient::request(HttpRequest request) {
  auto impl = impl_;  // a request may outlive the client that started it
  co_return co_await impl->request(std::move(request));
}

}  // namespace herd::places
