// A load generator: IAMAT lines over real TCP connections to one herd server.
//
//   iamat_load HOST PORT CONNECTIONS LINES_PER_CONNECTION [WINDOW] [CLIENTS] [FIRST]
//
// Each connection keeps up to WINDOW lines in flight (pipelined) and counts the replies;
// the updates rotate over CLIENTS distinct client IDs (default: every line its own client).
// Lines are numbered from FIRST (default 0) in each connection, and a line's number makes
// its client ID and its client time: a run that starts where the last one stopped sends
// the same server new clients, or newer updates, never a repeat.
// Prints one line of figures. Plain blocking sockets, one thread a connection, so that the
// load generator itself is simple enough to trust.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host;
  int port = 0;
  int connections = 1;
  long lines = 10000;
  long window = 64;
  long clients = 0;
  long first = 0;
};

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads a whole decimal argument; a typo must not silently become 0 (as atoi would make it).
template <typename Number>
bool parse_argument(std::string_view text, Number& out) {
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, out);
  return error == std::errc{} && stop == end;
}

// Returns the number of replies received, or -1 on a connection failure.
long run_connection(const Options& options, int index, std::atomic<long>& bad_replies) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options.port));
  ::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  long sent = 0, received = 0;
  std::string batch, pending;
  char buffer[65536];
  while (received < options.lines) {
    batch.clear();
    while (sent < options.lines && sent - received < options.window) {
      const long line = options.first + sent;
      const long client = options.clients > 0 ? (line % options.clients) : line;
      batch += "IAMAT load-" + std::to_string(index) + "-" + std::to_string(client) +
               " +34.068930-118.445127 " + std::to_string(1700000000 + line) + "." +
               std::to_string(100000000 + index) + "\n";
      ++sent;
    }
    if (!batch.empty() && !send_all(fd, batch)) break;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0, end;
    while ((end = pending.find('\n', start)) != std::string::npos) {
      if (pending.compare(start, 3, "AT ") != 0) ++bad_replies;
      ++received;
      start = end + 1;
    }
    pending.erase(0, start);
  }
  ::close(fd);
  return received;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool usable = argc >= 5;
  if (usable) {
    options.host = argv[1];
    usable = parse_argument(argv[2], options.port) &&
             parse_argument(argv[3], options.connections) &&
             parse_argument(argv[4], options.lines) &&
             (argc <= 5 || parse_argument(argv[5], options.window)) &&
             (argc <= 6 || parse_argument(argv[6], options.clients)) &&
             (argc <= 7 || parse_argument(argv[7], options.first));
  }
  if (!usable) {
    std::fprintf(
        stderr, "usage: %s HOST PORT CONNECTIONS LINES_PER_CONNECTION [WINDOW] [CLIENTS] [FIRST]\n",
        argv[0]);
    return 2;
  }
  options.connections = std::max(1, options.connections);
  options.lines = std::max(1L, options.lines);
  options.window = std::max(1L, options.window);
  options.clients = std::max(0L, options.clients);
  options.first = std::max(0L, options.first);

  std::atomic<long> total{0}, failures{0}, bad_replies{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(options.connections));
  for (int i = 0; i < options.connections; ++i) {
    threads.emplace_back([&, i] {
      long n = run_connection(options, i, bad_replies);
      if (n < 0) {
        ++failures;
      } else {
        total += n;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("connections=%d window=%ld replies=%ld bad=%ld failed=%ld seconds=%.3f rate=%.0f/s\n",
              options.connections, options.window, total.load(), bad_replies.load(),
              failures.load(), seconds, static_cast<double>(total.load()) / seconds);
  return failures.load() == 0 && bad_replies.load() == 0 ? 0 : 1;
}
