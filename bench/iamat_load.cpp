// A load generator: IAMAT lines over real TCP connections to one herd server.
//
//   iamat_load HOST PORT CONNECTIONS LINES_PER_CONNECTION [WINDOW] [CLIENTS] [FIRST]
//              [SPREAD_TO]
//
// Each connection keeps up to WINDOW lines in flight (pipelined) and counts the replies;
// the updates rotate over CLIENTS distinct client IDs (default: every line its own client).
// Lines are numbered from FIRST (default 0) in each connection, and a line's number makes
// its client ID and its client time: a run that starts where the last one stopped sends
// the same server new clients, or newer updates, never a repeat.
//
// SPREAD_TO, ports of HOST separated by commas (the rest of a herd): once every reply is
// in, the run goes on until the updates have reached those servers too, so that it
// measures a herd taking them, not one server acknowledging them while the flood lags
// behind. A last IAMAT, for a client of its own, goes to PORT after the others, and the
// run ends when each server of SPREAD_TO answers a WHATSAT for that client: a link sends
// records in the order they were stored, so a server that has the last has every one.
//
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
#include <optional>
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
  std::vector<int> spread_to;
};

// How long the updates may take to reach SPREAD_TO before the run gives up on them.
constexpr auto kSpreadLimit = std::chrono::seconds(60);

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

// "8,9,10": ports, each a whole number.
bool parse_ports(std::string_view text, std::vector<int>& out) {
  while (true) {
    const auto comma = text.find(',');
    int port = 0;
    if (!parse_argument(text.substr(0, comma), port)) return false;
    out.push_back(port);
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

// A connected socket with TCP_NODELAY, or -1.
int connect_to(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads from `fd` until `pending` holds `end`; returns the text up to and including it, or
// nullopt if the connection ends first.
std::optional<std::string> read_until(int fd, std::string& pending, std::string_view end) {
  std::size_t found;
  while ((found = pending.find(end)) == std::string::npos) {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return std::nullopt;
    pending.append(buffer, static_cast<std::size_t>(n));
  }
  std::string text = pending.substr(0, found + end.size());
  pending.erase(0, found + end.size());
  return text;
}

// Returns the number of replies received, or -1 on a connection failure.
long run_connection(const Options& options, int index, std::atomic<long>& bad_replies) {
  const int fd = connect_to(options.host, options.port);
  if (fd < 0) return -1;

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

// Sends the last IAMAT to PORT, then asks each server of SPREAD_TO for its client, a
// millisecond apart, until every one knows it. Returns false on a connection failure or
// once kSpreadLimit has passed.
bool wait_for_spread(const Options& options) {
  const std::string client =
      "load-last-" + std::to_string(options.first) + "-" + std::to_string(options.lines);
  const int fd = connect_to(options.host, options.port);
  if (fd < 0) return false;
  std::string pending;
  const bool acknowledged =
      send_all(fd, "IAMAT " + client + " +34.068930-118.445127 " +
                       std::to_string(1700000000 + options.first + options.lines) + ".0\n") &&
      read_until(fd, pending, "\n").value_or("").starts_with("AT ");
  ::close(fd);
  if (!acknowledged) return false;

  std::vector<int> waiting;  // sockets to the servers that do not know it yet
  for (int port : options.spread_to) {
    const int server = connect_to(options.host, port);
    if (server >= 0) waiting.push_back(server);
  }
  bool reached = waiting.size() == options.spread_to.size();
  const auto limit = std::chrono::steady_clock::now() + kSpreadLimit;
  const std::string ask = "WHATSAT " + client + " 1 1\n";
  while (reached && !waiting.empty()) {
    if (std::chrono::steady_clock::now() > limit) reached = false;
    std::vector<int> still;
    for (int server : waiting) {
      pending.clear();
      auto line = send_all(server, ask) ? read_until(server, pending, "\n") : std::nullopt;
      // Known: the AT line, then the places JSON and a blank line. Unknown: "? " and the line.
      if (line && line->starts_with("AT ") && read_until(server, pending, "\n\n")) {
        ::close(server);
      } else if (line && line->starts_with("? ") && reached) {
        still.push_back(server);
      } else {
        ::close(server);
        reached = false;
      }
    }
    waiting = std::move(still);
    if (!waiting.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int server : waiting) ::close(server);
  return reached;
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
             (argc <= 7 || parse_argument(argv[7], options.first)) &&
             (argc <= 8 || parse_ports(argv[8], options.spread_to)) && argc <= 9;
  }
  if (!usable) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT CONNECTIONS LINES_PER_CONNECTION [WINDOW] [CLIENTS] "
                 "[FIRST] [SPREAD_TO]\n",
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
  const auto since = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double acknowledged = since();
  const bool spread = options.spread_to.empty() || wait_for_spread(options);
  const double seconds = since();
  std::printf("connections=%d window=%ld replies=%ld bad=%ld failed=%ld", options.connections,
              options.window, total.load(), bad_replies.load(), failures.load());
  if (!options.spread_to.empty()) {
    std::printf(" acknowledged=%.3f spread=%s", acknowledged, spread ? "yes" : "NO");
  }
  std::printf(" seconds=%.3f rate=%.0f/s\n", seconds, static_cast<double>(total.load()) / seconds);
  return failures.load() == 0 && bad_replies.load() == 0 && spread ? 0 : 1;
}
