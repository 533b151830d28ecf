// The herd's configuration: which servers exist, how they are linked, where logs go and
// where places come from.
//
// Without a file, default_config() is the five-server herd of the contract. load_config()
// reads a TOML file and refuses anything doubtful (unknown keys, wrong types, a neighbour
// that does not exist, a link given one way only) with a ConfigError whose message names
// the file, the key and what is wrong.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace herd::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerConfig {
  std::string name;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<std::string> neighbours;
};

struct PlacesConfig {
  // Legacy Nearby Search endpoint; `http://` is accepted for a local relay.
  std::string url = "https://maps.googleapis.com/maps/api/place/nearbysearch/json";
  std::string key_env = "GOOGLE_PLACES_API_KEY";  // environment variable holding the key
  std::string key_file;                           // or a file holding it (wins if set)
  std::string ca_file;  // extra CA certificate(s) to trust, PEM; empty: system store only
  std::chrono::milliseconds timeout{5000};  // whole call, connect to last byte
};

struct LogConfig {
  std::string dir = "logs";
  std::size_t max_bytes = 10 * 1024 * 1024;  // one file, before it rotates
  std::size_t max_files = 5;                 // rotated files kept beside the current one
  std::size_t max_line = 4096;               // longer logged lines are cut, length noted
};

struct HerdConfig {
  std::string source = "<built-in default>";  // the file it came from, for messages
  std::vector<ServerConfig> servers;
  PlacesConfig places;
  LogConfig log;

  // nullptr when no server has that name.
  const ServerConfig* find(std::string_view name) const;
  // "Bernard, Clark, Jaquez, Johnson, Juzang"
  std::string server_names() const;
};

HerdConfig default_config();

// Reads and validates a TOML file; throws ConfigError.
HerdConfig load_config(const std::filesystem::path& file);

// The places API key: the contents of key_file (trimmed) if set, else the environment
// variable key_env; empty if neither gives one. Throws ConfigError for an unreadable file.
std::string resolve_api_key(const PlacesConfig& places);

}  // namespace herd::config
