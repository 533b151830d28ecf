#include "config/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include <toml++/toml.h>

#include "text/printable.hpp"

namespace herd::config {

namespace {

constexpr std::string_view kWhiteSpace = " \t\r\n\f\v";

// Text from the file goes into one-line messages; control characters must not break them.
using text::printable;

std::string in_quotes(std::string_view text) {
  return '"' + printable(text) + '"';
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Reads the whole file with plain POSIX calls so that the reason for a failure is errno's;
// on failure returns nothing and sets `error`.
std::optional<std::string> read_whole(const std::filesystem::path& file, int& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      ::close(fd);
      return std::nullopt;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

// Walks the parsed document; every error names the file and the key path.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(std::string_view path, std::string_view what) const {
    throw ConfigError(source_ + ": " + std::string(path) + ": " + std::string(what));
  }

  // Only the keys listed are allowed in a table.
  void check_keys(const toml::table& table, const std::string& prefix,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : table) {
      bool known = false;
      for (auto name : allowed) known = known || key.str() == name;
      if (!known) fail(join_path(prefix, printable(key.str())), "unknown key");
    }
  }

  const toml::table* table(const toml::table& parent, std::string_view key,
                           const std::string& path) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) fail(path, expected("a table", *node));
    return node->as_table();
  }

  void read_string(const toml::table& parent, std::string_view key, const std::string& prefix,
                   std::string& out) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return;
    if (!node->is_string()) fail(join_path(prefix, key), expected("a string", *node));
    out = node->as_string()->get();
  }

  // Integers in [low, high]; absent keys keep the value already in `out`.
  std::optional<std::int64_t> read_integer(const toml::table& parent, std::string_view key,
                                           const std::string& prefix, std::int64_t low,
                                           std::int64_t high) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string path = join_path(prefix, key);
    if (!node->is_integer()) fail(path, expected("an integer", *node));
    const std::int64_t value = node->as_integer()->get();
    if (value < low || value > high) {
      fail(path, "must be an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                     ", got " + std::to_string(value));
    }
    return value;
  }

  void read_bool(const toml::table& parent, std::string_view key, const std::string& prefix,
                 bool& out) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return;
    if (!node->is_boolean()) fail(join_path(prefix, key), expected("true or false", *node));
    out = node->as_boolean()->get();
  }

  static std::string join_path(std::string_view prefix, std::string_view key) {
    if (prefix.empty()) return std::string(key);
    return std::string(prefix) + "." + std::string(key);
  }

  static std::string expected(std::string_view what, const toml::node& node) {
    return "expected " + std::string(what) + ", got " + std::string(type_name(node.type()));
  }

 private:
  std::string source_;
};

// A secret from a file (trimmed; wins if named) or else an environment variable; empty if
// neither gives one. Errors name the key, never the contents.
std::string read_secret(const std::string& file, std::string_view file_key,
                        const std::string& env) {
  if (!file.empty()) {
    int error = 0;
    const std::optional<std::string> content = read_whole(file, error);
    if (!content) {
      throw ConfigError(std::string(file_key) + ": cannot read " + in_quotes(file) + ": " +
                        std::system_category().message(error));
    }
    const std::string& secret = *content;
    const auto first = secret.find_first_not_of(kWhiteSpace);
    if (first == std::string::npos) return {};
    const auto last = secret.find_last_not_of(kWhiteSpace);
    return secret.substr(first, last - first + 1);
  }
  if (env.empty()) return {};
  // Read once at start-up; nothing in herd changes the environment, so no race.
  const char* value = std::getenv(env.c_str());  // NOLINT(concurrency-mt-unsafe)
  return value == nullptr ? std::string() : std::string(value);
}

// Sizes have no natural upper bound; this one only keeps them far from overflow.
constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;

void read_log(const Reader& reader, const toml::table& root, LogConfig& log) {
  const toml::table* table = reader.table(root, "log", "log");
  if (table == nullptr) return;
  reader.check_keys(*table, "log", {"dir", "max_bytes", "max_files", "max_line"});
  reader.read_string(*table, "dir", "log", log.dir);
  if (log.dir.empty()) reader.fail("log.dir", "must not be empty");
  if (auto v = reader.read_integer(*table, "max_bytes", "log", 1, kMaxSize)) {
    log.max_bytes = static_cast<std::size_t>(*v);
  }
  if (auto v = reader.read_integer(*table, "max_files", "log", 0, 1000)) {
    log.max_files = static_cast<std::size_t>(*v);
  }
  if (auto v = reader.read_integer(*table, "max_line", "log", 1, kMaxSize)) {
    log.max_line = static_cast<std::size_t>(*v);
  }
}

void read_url(const Reader& reader, const toml::table& table, std::string_view key,
              std::string& out) {
  reader.read_string(table, key, "places", out);
  const std::string_view url = out;
  const bool http = url.starts_with("http://") && url.size() > 7;
  const bool https = url.starts_with("https://") && url.size() > 8;
  if (!http && !https) {
    reader.fail(Reader::join_path("places", key),
                "must start with http:// or https://, got " + in_quotes(url));
  }
}

// A key whose value is the name of one of `choices`, as `name_of` spells it.
template <typename Choice>
void read_choice(const Reader& reader, const toml::table& table, const std::string& section,
                 std::string_view key, std::initializer_list<Choice> choices,
                 std::string_view (*name_of)(Choice), Choice& out) {
  if (table.get(key) == nullptr) return;
  std::string name;
  reader.read_string(table, key, section, name);
  std::string names;  // for the message: "a", "b" or "c"
  std::size_t index = 0;
  for (const Choice choice : choices) {
    if (name == name_of(choice)) {
      out = choice;
      return;
    }
    if (index > 0) names += index + 1 == choices.size() ? " or " : ", ";
    names += in_quotes(name_of(choice));
    ++index;
  }
  reader.fail(Reader::join_path(section, key), "must be " + names + ", got " + in_quotes(name));
}

void read_places(const Reader& reader, const toml::table& root, PlacesConfig& places) {
  const toml::table* table = reader.table(root, "places", "places");
  if (table == nullptr) return;
  reader.check_keys(
      *table, "places",
      {"source", "url", "new_url", "key_env", "key_file", "ca_file", "timeout_ms", "offline_data",
       "cache_ttl_ms", "max_calls_per_second", "burst", "max_concurrent_calls"});
  read_choice(reader, *table, "places", "source",
              {PlacesSourceKind::kAuto, PlacesSourceKind::kGoogle, PlacesSourceKind::kGoogleNew,
               PlacesSourceKind::kOffline},
              places_source_name, places.source);
  read_url(reader, *table, "url", places.url);
  read_url(reader, *table, "new_url", places.new_url);
  reader.read_string(*table, "key_env", "places", places.key_env);
  reader.read_string(*table, "key_file", "places", places.key_file);
  reader.read_string(*table, "ca_file", "places", places.ca_file);
  reader.read_string(*table, "offline_data", "places", places.offline_data);
  // A day is far beyond any sensible deadline; the cap keeps the arithmetic safe.
  if (auto v = reader.read_integer(*table, "timeout_ms", "places", 1, 86'400'000)) {
    places.timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = reader.read_integer(*table, "cache_ttl_ms", "places", 0, 86'400'000)) {
    places.cache_ttl = std::chrono::milliseconds(*v);
  }
  if (auto v = reader.read_integer(*table, "max_calls_per_second", "places", 0, 1'000'000)) {
    places.max_calls_per_second = static_cast<std::uint32_t>(*v);
  }
  if (auto v = reader.read_integer(*table, "burst", "places", 1, 1'000'000)) {
    places.burst = static_cast<std::uint32_t>(*v);
  }
  if (auto v = reader.read_integer(*table, "max_concurrent_calls", "places", 1, 100'000)) {
    places.max_concurrent_calls = static_cast<std::uint32_t>(*v);
  }
}

void read_links(const Reader& reader, const toml::table& root, LinksConfig& links) {
  const toml::table* table = reader.table(root, "links", "links");
  if (table == nullptr) return;
  reader.check_keys(*table, "links", {"secret_env", "secret_file", "unauthenticated"});
  reader.read_string(*table, "secret_env", "links", links.secret_env);
  reader.read_string(*table, "secret_file", "links", links.secret_file);
  reader.read_bool(*table, "unauthenticated", "links", links.unauthenticated);
}

void read_store(const Reader& reader, const toml::table& root, StoreConfig& store) {
  const toml::table* table = reader.table(root, "store", "store");
  if (table == nullptr) return;
  reader.check_keys(*table, "store", {"dir", "durability", "ttl_s"});
  reader.read_string(*table, "dir", "store", store.dir);
  if (store.dir.empty()) reader.fail("store.dir", "must not be empty");
  read_choice(reader, *table, "store", "durability",
              {Durability::kWritten, Durability::kSynced, Durability::kMemory}, durability_name,
              store.durability);
  // Ten years: far beyond any sensible lifetime, far from overflow.
  if (auto v = reader.read_integer(*table, "ttl_s", "store", 0, 315'360'000)) {
    store.ttl = std::chrono::seconds(*v);
  }
}

void read_limits(const Reader& reader, const toml::table& root, LimitsConfig& limits) {
  const toml::table* table = reader.table(root, "limits", "limits");
  if (table == nullptr) return;
  reader.check_keys(*table, "limits",
                    {"max_connections", "idle_timeout_ms", "write_timeout_ms",
                     "max_pending_replies", "max_whatsat_per_connection", "max_whatsat_per_server",
                     "max_client_id", "max_records", "requests_per_second", "request_burst"});
  const auto count = [&](std::string_view key, auto& out, std::int64_t low, std::int64_t high) {
    if (auto v = reader.read_integer(*table, key, "limits", low, high)) {
      out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
    }
  };
  const auto millis = [&](std::string_view key, std::chrono::milliseconds& out) {
    if (auto v = reader.read_integer(*table, key, "limits", 1, 86'400'000)) {
      out = std::chrono::milliseconds(*v);
    }
  };
  count("max_connections", limits.max_connections, 1, 1'000'000);
  millis("idle_timeout_ms", limits.idle_timeout);
  millis("write_timeout_ms", limits.write_timeout);
  count("max_pending_replies", limits.max_pending_replies, 1, 1'000'000);
  count("max_whatsat_per_connection", limits.max_whatsat_per_connection, 1, 1'000'000);
  count("max_whatsat_per_server", limits.max_whatsat_per_server, 1, 1'000'000);
  count("max_client_id", limits.max_client_id, 1, 16384);
  count("max_records", limits.max_records, 1, kMaxSize);
  count("requests_per_second", limits.requests_per_second, 0, 1'000'000);
  count("request_burst", limits.request_burst, 1, 1'000'000);
}

ServerConfig read_server(const Reader& reader, const toml::node& node, const std::string& path) {
  if (!node.is_table()) reader.fail(path, Reader::expected("a table", node));
  const toml::table& table = *node.as_table();
  reader.check_keys(table, path, {"name", "host", "port", "neighbours"});

  ServerConfig server;
  if (table.get("name") == nullptr) reader.fail(path + ".name", "missing");
  reader.read_string(table, "name", path, server.name);
  if (server.name.empty()) reader.fail(path + ".name", "must not be empty");
  if (server.name.find_first_of(kWhiteSpace) != std::string::npos) {
    reader.fail(path + ".name", "must not contain white space, got " + in_quotes(server.name));
  }
  // The name also names the server's log file.
  for (char c : server.name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || byte < 0x20 || byte == 0x7f) {
      reader.fail(path + ".name",
                  "must not contain '/' or control characters, got " + in_quotes(server.name));
    }
  }

  reader.read_string(table, "host", path, server.host);
  if (server.host.empty()) reader.fail(path + ".host", "must not be empty");
  if (server.host.find_first_of(kWhiteSpace) != std::string::npos) {
    reader.fail(path + ".host", "must not contain white space, got " + in_quotes(server.host));
  }

  if (table.get("port") == nullptr) reader.fail(path + ".port", "missing");
  server.port = static_cast<std::uint16_t>(*reader.read_integer(table, "port", path, 1, 65535));

  if (const toml::node* list = table.get("neighbours")) {
    const std::string list_path = path + ".neighbours";
    if (!list->is_array()) reader.fail(list_path, Reader::expected("an array", *list));
    const toml::array& array = *list->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const std::string item_path = list_path + "[" + std::to_string(i) + "]";
      const toml::node& item = *array.get(i);
      if (!item.is_string()) reader.fail(item_path, Reader::expected("a string", item));
      server.neighbours.push_back(item.as_string()->get());
    }
  }
  return server;
}

std::string server_path(std::size_t index) {
  return "servers[" + std::to_string(index) + "]";
}

void check_herd(const Reader& reader, const HerdConfig& herd) {
  std::map<std::string, std::size_t> by_name;
  std::map<std::string, std::size_t> by_address;
  for (std::size_t i = 0; i < herd.servers.size(); ++i) {
    const ServerConfig& server = herd.servers[i];
    auto [at, fresh] = by_name.emplace(server.name, i);
    if (!fresh) {
      reader.fail(server_path(i) + ".name",
                  in_quotes(server.name) + " is already the name of " + server_path(at->second));
    }
    const std::string address = server.host + ":" + std::to_string(server.port);
    auto [other, unused] = by_address.emplace(address, i);
    if (!unused) {
      reader.fail(server_path(i) + ".port", printable(address) + " is already used by " +
                                                server_path(other->second) + " (" +
                                                herd.servers[other->second].name + ")");
    }
  }

  for (std::size_t i = 0; i < herd.servers.size(); ++i) {
    const ServerConfig& server = herd.servers[i];
    std::set<std::string_view> seen;
    for (std::size_t j = 0; j < server.neighbours.size(); ++j) {
      const std::string& neighbour = server.neighbours[j];
      const std::string path = server_path(i) + ".neighbours[" + std::to_string(j) + "]";
      if (neighbour == server.name) {
        reader.fail(path, in_quotes(neighbour) +
                              " is this server itself; it cannot be its own "
                              "neighbour");
      }
      if (!seen.insert(neighbour).second)
        reader.fail(path, in_quotes(neighbour) + " is listed twice");
      if (!by_name.contains(neighbour)) {
        reader.fail(path, in_quotes(neighbour) + " is not a server of this herd (servers: " +
                              herd.server_names() + ")");
      }
    }
  }

  // Links are bidirectional; a link given one way only is almost certainly a typo.
  for (std::size_t i = 0; i < herd.servers.size(); ++i) {
    const ServerConfig& server = herd.servers[i];
    for (const std::string& neighbour : server.neighbours) {
      const ServerConfig& other = herd.servers[by_name.at(neighbour)];
      bool back = false;
      for (const std::string& name : other.neighbours) back = back || name == server.name;
      if (!back) {
        // fail() throws, so this concatenation runs once, not once per loop turn.
        // NOLINTNEXTLINE(performance-inefficient-string-concatenation)
        reader.fail(server_path(i) + ".neighbours", server.name + " lists " + neighbour + ", but " +
                                                        neighbour + " does not list " +
                                                        server.name);
      }
    }
  }
}

}  // namespace

std::string_view places_source_name(PlacesSourceKind kind) {
  switch (kind) {
    case PlacesSourceKind::kAuto:
      return "auto";
    case PlacesSourceKind::kGoogle:
      return "google";
    case PlacesSourceKind::kGoogleNew:
      return "google-new";
    case PlacesSourceKind::kOffline:
      return "offline";
  }
  return "auto";
}

const ServerConfig* HerdConfig::find(std::string_view name) const {
  for (const ServerConfig& server : servers) {
    if (server.name == name) return &server;
  }
  return nullptr;
}

std::string HerdConfig::server_names() const {
  std::vector<std::string> names;
  for (const ServerConfig& server : servers) names.push_back(printable(server.name));
  return join(names);
}

HerdConfig default_config() {
  HerdConfig herd;
  const auto server = [](std::string name, std::uint16_t port,
                         std::vector<std::string> neighbours) {
    ServerConfig config;
    config.name = std::move(name);
    config.port = port;
    config.neighbours = std::move(neighbours);
    return config;
  };
  herd.servers = {
      server("Bernard", 12311, {"Jaquez", "Johnson", "Juzang"}),
      server("Clark", 12312, {"Jaquez", "Juzang"}),
      server("Jaquez", 12313, {"Bernard", "Clark"}),
      server("Johnson", 12314, {"Bernard", "Juzang"}),
      server("Juzang", 12315, {"Bernard", "Clark", "Johnson"}),
  };
  return herd;
}

HerdConfig load_config(const std::filesystem::path& file) {
  HerdConfig herd;
  herd.source = file.string();
  int error = 0;
  const std::optional<std::string> content = read_whole(file, error);
  if (!content) {
    throw ConfigError(herd.source + ": cannot read: " + std::system_category().message(error));
  }

  toml::table root;
  try {
    root = toml::parse(*content, herd.source);
  } catch (const toml::parse_error& parse_error) {
    const auto& begin = parse_error.source().begin;
    throw ConfigError(herd.source + ":" + std::to_string(begin.line) + ":" +
                      std::to_string(begin.column) + ": " + printable(parse_error.description()));
  }

  const Reader reader(herd.source);
  reader.check_keys(root, "", {"log", "places", "links", "limits", "store", "servers"});
  read_log(reader, root, herd.log);
  read_places(reader, root, herd.places);
  read_links(reader, root, herd.links);
  read_limits(reader, root, herd.limits);
  read_store(reader, root, herd.store);

  const toml::node* servers = root.get("servers");
  if (servers == nullptr) reader.fail("servers", "at least one server is required");
  if (!servers->is_array()) {
    reader.fail("servers", Reader::expected("an array of tables", *servers));
  }
  const toml::array& array = *servers->as_array();
  if (array.empty()) reader.fail("servers", "at least one server is required");
  for (std::size_t i = 0; i < array.size(); ++i) {
    herd.servers.push_back(read_server(reader, *array.get(i), server_path(i)));
  }
  check_herd(reader, herd);
  return herd;
}

std::string resolve_api_key(const PlacesConfig& places) {
  return read_secret(places.key_file, "places.key_file", places.key_env);
}

std::string resolve_link_secret(const LinksConfig& links) {
  return read_secret(links.secret_file, "links.secret_file", links.secret_env);
}

std::string_view durability_name(Durability durability) {
  switch (durability) {
    case Durability::kWritten:
      return "written";
    case Durability::kSynced:
      return "synced";
    case Durability::kMemory:
      return "memory";
  }
  return "written";
}

std::filesystem::path data_file(const StoreConfig& store, std::string_view name) {
  return std::filesystem::path(store.dir) / (std::string(name) + ".db");
}

std::filesystem::path offline_data_file(const PlacesConfig& places) {
  if (!places.offline_data.empty()) return places.offline_data;
  return default_offline_data();
}

std::filesystem::path default_offline_data() {
  std::error_code error;
  std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  // Without /proc, the working directory stands in for the executable's directory.
  std::filesystem::path dir = error ? std::filesystem::path(".") : executable.parent_path();
  return (dir / ".." / "data" / "places.dat").lexically_normal();
}

}  // namespace herd::config
