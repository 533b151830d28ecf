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

// Where WHATSAT's places come from.
enum class PlacesSourceKind {
  kAuto,       // Google's legacy API when a key is configured, offline otherwise
  kGoogle,     // Google Places' legacy Nearby Search
  kGoogleNew,  // Google's Places API (New) Nearby Search, translated to the legacy shape
  kOffline,    // a local places file, no network
};

// "auto", "google", "google-new", "offline": the spelling of the config file.
std::string_view places_source_name(PlacesSourceKind kind);

struct PlacesConfig {
  PlacesSourceKind source = PlacesSourceKind::kAuto;
  // Legacy Nearby Search endpoint; `http://` is accepted for a local relay.
  std::string url = "https://maps.googleapis.com/maps/api/place/nearbysearch/json";
  std::string key_env = "GOOGLE_PLACES_API_KEY";  // environment variable holding the key
  std::string key_file;                           // or a file holding it (wins if set)
  std::string ca_file;  // extra CA certificate(s) to trust, PEM; empty: system store only
  std::chrono::milliseconds timeout{5000};  // whole call, connect to last byte
  // Places API (New) Nearby Search endpoint, for source google-new.
  std::string new_url = "https://places.googleapis.com/v1/places:searchNearby";
  std::string offline_data;  // the offline places file; empty: default_offline_data()

  // Frugality with a paid source (google, google-new); see frugal_source.hpp.
  std::chrono::milliseconds cache_ttl{0};   // answers kept this long; 0: no cache
  std::uint32_t max_calls_per_second = 10;  // token bucket rate; 0: no limit
  std::uint32_t burst = 20;                 // token bucket size
  std::uint32_t max_concurrent_calls = 16;  // upstream calls under way at once
};

struct LogConfig {
  std::string dir = "logs";
  std::size_t max_bytes = std::size_t{10} * 1024 * 1024;  // one file, before it rotates
  std::size_t max_files = 5;    // rotated files kept beside the current one
  std::size_t max_line = 4096;  // longer logged lines are cut, length noted
};

// How neighbours prove they belong to the herd (docs/security.md).
struct LinksConfig {
  std::string secret_env = "HERD_LINK_SECRET";  // environment variable holding the secret
  std::string secret_file;                      // or a file holding it (wins if set)
  // Links without a secret are allowed on loopback; beyond it only when this says so.
  bool unauthenticated = false;

  friend bool operator==(const LinksConfig&, const LinksConfig&) = default;
};

// What one client, or all of them, may cost a server (docs/security.md).
struct LimitsConfig {
  std::uint32_t max_connections = 1024;             // open connections; past it refused at once
  std::chrono::milliseconds idle_timeout{60'000};   // no complete line for this long: closed
  std::chrono::milliseconds write_timeout{30'000};  // a reply not taken for this long: closed
  std::uint32_t max_pending_replies = 256;          // lines read ahead of their replies
  std::uint32_t max_whatsat_per_connection = 16;    // WHATSATs waiting, one connection
  std::uint32_t max_whatsat_per_server = 1024;      // WHATSATs waiting, whole server
  std::uint32_t max_client_id = 256;                // bytes
  std::uint64_t max_records = 1'000'000;            // clients stored
  std::uint32_t requests_per_second = 200;          // per client connection; 0: no limit
  std::uint32_t request_burst = 400;

  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

// How durably a server keeps its records (docs/durability.md).
enum class Durability {
  kWritten,  // an AT reply waits until its record is written to the data file (SIGKILL-safe)
  kSynced,   // ... and synced to disk (power-loss-safe; commits are grouped)
  kMemory,   // no data file: a restarted server gets every record back from its neighbours
};

// "written", "synced", "memory": the spelling of the config file.
std::string_view durability_name(Durability durability);

// Where and how a server keeps its records.
struct StoreConfig {
  std::string dir = "data";  // each server keeps <dir>/<name>.db
  Durability durability = Durability::kWritten;
  std::chrono::seconds ttl{0};  // records whose client time is older are forgotten; 0: never

  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

struct HerdConfig {
  std::string source = "<built-in default>";  // the file it came from, for messages
  std::vector<ServerConfig> servers;
  PlacesConfig places;
  LogConfig log;
  LinksConfig links;
  LimitsConfig limits;
  StoreConfig store;

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

// The link secret, from links.secret_file or links.secret_env, like the API key.
std::string resolve_link_secret(const LinksConfig& links);

// The data file of server `name`: <store.dir>/<name>.db.
std::filesystem::path data_file(const StoreConfig& store, std::string_view name);

// The offline places file: offline_data if set, else default_offline_data().
std::filesystem::path offline_data_file(const PlacesConfig& places);

// `<directory of the running executable>/../data/places.dat`: where the build writes the
// file (build/data/places.dat beside build/src/herd).
std::filesystem::path default_offline_data();

}  // namespace herd::config
