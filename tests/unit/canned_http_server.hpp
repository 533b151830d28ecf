// A local HTTP/1.1 server for the places tests: real sockets on 127.0.0.1, plain or TLS,
// answering every request with canned bytes and recording what it was asked.
//
// It runs its own event loop on its own thread, so a test drives the client on the main
// thread as a server would. Also makes the test certificates (a CA and server certificates)
// with the `openssl` command line.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace herd::testing {

// Certificates made for one test run, in a temporary directory removed on destruction.
struct TestPki {
  TestPki();  // throws std::runtime_error if `openssl` fails
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::filesystem::path dir;
  std::filesystem::path ca;           // the test CA, PEM
  std::filesystem::path server_cert;  // subjectAltName IP:127.0.0.1, DNS:localhost
  std::filesystem::path server_key;
  std::filesystem::path other_cert;  // subjectAltName DNS:elsewhere.example only
  std::filesystem::path other_key;
};

// The bytes of a complete HTTP/1.1 answer with a Content-Length.
std::string http_answer(int status, const std::string& body,
                        const std::string& content_type = "application/json; charset=UTF-8");

struct CannedServerOptions {
  std::string answer;               // sent for every request
  bool close_after_answer = false;  // close without saying so, as a keep-alive timeout does
  bool never_answer = false;        // read the request, then hold the connection silently
  std::filesystem::path cert, key;  // TLS when set
};

class CannedServer {
 public:
  explicit CannedServer(CannedServerOptions options);
  ~CannedServer();
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;

  std::uint16_t port() const;
  int accepts() const;  // TCP connections accepted
  int closed() const;   // connections the server has closed
  // Each request's head (request line and headers, through the blank line) and its body,
  // if it had one, in order.
  std::vector<std::string> requests() const;
  // Waits (up to a few seconds) until `count` connections are closed; false if not.
  bool wait_closed(int count) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A port on 127.0.0.1 where nothing listens (it was bound, then released).
std::uint16_t unused_port();

}  // namespace herd::testing
