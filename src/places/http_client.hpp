// A small asynchronous HTTP/1.1 client over Beast, for places sources.
//
// HTTPS verifies the certificate chain (the system store plus an optional CA file) and the
// host name; plain `http://` is accepted for a local relay. Connections are kept alive and
// reused per (scheme, host, port). A call never blocks the event loop and never outlives
// its timeout. A request goes again, once, on a fresh connection only when the server
// cannot have acted on it: a connection that could not be made (any method), or a kept-alive
// one the server had closed (GET, HEAD and OPTIONS only). Errors are reported as HttpError with a
// message fit for a log: it never contains the request's query string.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace herd::places {

class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: http(s)://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `ca_file`: extra PEM certificates to trust; empty for the system store alone.
  // Throws HttpError if the CA file cannot be loaded.
  HttpClient(boost::asio::any_io_executor executor, const std::string& ca_file,
             std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws HttpError on a bad URL, a connection or TLS failure, a timeout, or a malformed
  // response. Any HTTP status is a response, not an error.
  boost::asio::awaitable<HttpResponse> request(HttpRequest request);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herd::places
