#include "config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace herd::config {
namespace {

namespace fs = std::filesystem;

void expect_same(const HerdConfig& a, const HerdConfig& b) {
  ASSERT_EQ(a.servers.size(), b.servers.size());
  for (std::size_t i = 0; i < a.servers.size(); ++i) {
    SCOPED_TRACE("server " + std::to_string(i));
    EXPECT_EQ(a.servers[i].name, b.servers[i].name);
    EXPECT_EQ(a.servers[i].host, b.servers[i].host);
    EXPECT_EQ(a.servers[i].port, b.servers[i].port);
    EXPECT_EQ(a.servers[i].neighbours, b.servers[i].neighbours);
  }
  EXPECT_EQ(a.places.url, b.places.url);
  EXPECT_EQ(a.places.key_env, b.places.key_env);
  EXPECT_EQ(a.places.key_file, b.places.key_file);
  EXPECT_EQ(a.places.ca_file, b.places.ca_file);
  EXPECT_EQ(a.places.timeout, b.places.timeout);
  EXPECT_EQ(a.places.source, b.places.source);
  EXPECT_EQ(a.places.new_url, b.places.new_url);
  EXPECT_EQ(a.places.offline_data, b.places.offline_data);
  EXPECT_EQ(a.places.cache_ttl, b.places.cache_ttl);
  EXPECT_EQ(a.places.max_calls_per_second, b.places.max_calls_per_second);
  EXPECT_EQ(a.places.burst, b.places.burst);
  EXPECT_EQ(a.places.max_concurrent_calls, b.places.max_concurrent_calls);
  EXPECT_EQ(a.log.dir, b.log.dir);
  EXPECT_EQ(a.log.max_bytes, b.log.max_bytes);
  EXPECT_EQ(a.log.max_files, b.log.max_files);
  EXPECT_EQ(a.log.max_line, b.log.max_line);
  EXPECT_TRUE(a.links == b.links);
  EXPECT_TRUE(a.limits == b.limits);
  EXPECT_TRUE(a.store == b.store);
}

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("herd-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // The message of the ConfigError that loading `content` throws.
  std::string error_of(const std::string& content) {
    const std::string path = write("herd.toml", content);
    try {
      load_config(path);
    } catch (const ConfigError& error) {
      std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    }
    ADD_FAILURE() << "no error for:\n" << content;
    return {};
  }

  std::string herd_file() const { return (dir_ / "herd.toml").string(); }

  fs::path dir_;
};

// Three servers in a line: A - B - C. A std::string, so that tests can write `"..." + kServers`;
// should building it throw, the test program fails at once, as it should.
// NOLINTNEXTLINE(cert-err58-cpp)
const std::string kServers = R"(
[[servers]]
name = "A"
port = 2001
neighbours = ["B"]

[[servers]]
name = "B"
port = 2002
neighbours = ["A", "C"]

[[servers]]
name = "C"
port = 2003
neighbours = ["B"]
)";

TEST(DefaultConfig, IsTheHerdOfTheContract) {
  const HerdConfig herd = default_config();
  EXPECT_EQ(herd.source, "<built-in default>");
  EXPECT_EQ(herd.server_names(), "Bernard, Clark, Jaquez, Johnson, Juzang");
  ASSERT_NE(herd.find("Juzang"), nullptr);
  EXPECT_EQ(herd.find("Juzang")->port, 12315);
  EXPECT_EQ(herd.find("Juzang")->host, "127.0.0.1");
  EXPECT_EQ(herd.find("Juzang")->neighbours,
            (std::vector<std::string>{"Bernard", "Clark", "Johnson"}));
  EXPECT_EQ(herd.find("Clark")->neighbours, (std::vector<std::string>{"Jaquez", "Juzang"}));
  EXPECT_EQ(herd.find("juzang"), nullptr);
  EXPECT_EQ(herd.places.url, "https://maps.googleapis.com/maps/api/place/nearbysearch/json");
  EXPECT_EQ(herd.log.max_bytes, 10485760u);
}

TEST(DefaultConfig, EqualsTheRepositoryFile) {
  const std::string file = std::string(HERD_SOURCE_DIR) + "/config/default.toml";
  const HerdConfig loaded = load_config(file);
  EXPECT_EQ(loaded.source, file);
  expect_same(loaded, default_config());
}

TEST_F(ConfigFiles, CustomHerdRoundTrips) {
  const std::string path = write("custom.toml", R"(
[log]
dir = "/var/log/herd"
max_bytes = 1000
max_files = 0
max_line = 80

[places]
url = "http://127.0.0.1:8080/places"
key_env = "MY_KEY"
key_file = "/etc/herd/key"
ca_file = "/etc/herd/ca.pem"
timeout_ms = 250
)" + kServers + R"(
[[servers]]
name = "Lonely"
host = "0.0.0.0"
port = 2001
)");
  const HerdConfig herd = load_config(path);
  EXPECT_EQ(herd.source, path);
  EXPECT_EQ(herd.log.dir, "/var/log/herd");
  EXPECT_EQ(herd.log.max_bytes, 1000u);
  EXPECT_EQ(herd.log.max_files, 0u);
  EXPECT_EQ(herd.log.max_line, 80u);
  EXPECT_EQ(herd.places.url, "http://127.0.0.1:8080/places");
  EXPECT_EQ(herd.places.key_env, "MY_KEY");
  EXPECT_EQ(herd.places.key_file, "/etc/herd/key");
  EXPECT_EQ(herd.places.ca_file, "/etc/herd/ca.pem");
  EXPECT_EQ(herd.places.timeout, std::chrono::milliseconds(250));
  ASSERT_EQ(herd.servers.size(), 4u);
  EXPECT_EQ(herd.server_names(), "A, B, C, Lonely");
  EXPECT_EQ(herd.servers[0].host, "127.0.0.1");
  EXPECT_EQ(herd.servers[1].port, 2002);
  EXPECT_EQ(herd.servers[1].neighbours, (std::vector<std::string>{"A", "C"}));
  EXPECT_EQ(herd.servers[3].host, "0.0.0.0");
  EXPECT_EQ(herd.servers[3].port, 2001);  // same port, other host
  EXPECT_TRUE(herd.servers[3].neighbours.empty());
}

TEST_F(ConfigFiles, OmittedSectionsKeepTheirDefaults) {
  const HerdConfig herd = load_config(write("herd.toml", kServers));
  const HerdConfig defaults = default_config();
  EXPECT_EQ(herd.places.url, defaults.places.url);
  EXPECT_EQ(herd.places.key_env, defaults.places.key_env);
  EXPECT_EQ(herd.places.timeout, defaults.places.timeout);
  EXPECT_EQ(herd.log.dir, defaults.log.dir);
  EXPECT_EQ(herd.log.max_bytes, defaults.log.max_bytes);
  EXPECT_EQ(herd.log.max_files, defaults.log.max_files);
  EXPECT_EQ(herd.log.max_line, defaults.log.max_line);
}

TEST_F(ConfigFiles, MissingFile) {
  const std::string path = (dir_ / "absent.toml").string();
  try {
    load_config(path);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), (path + ": cannot read: No such file or directory").c_str());
  }
}

TEST_F(ConfigFiles, DirectoryIsNotAFile) {
  try {
    load_config(dir_);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), (dir_.string() + ": cannot read: Is a directory").c_str());
  }
}

TEST_F(ConfigFiles, SyntaxErrorHasItsPosition) {
  const std::string message = error_of("[log]\nmax_bytes = 10\ndir = = 3\n");
  EXPECT_EQ(message.rfind(herd_file() + ":3:7: ", 0), 0u) << message;
  EXPECT_GT(message.size(), (herd_file() + ":3:7: ").size());
}

struct Case {
  const char* what;
  std::string content;
  std::string message;  // after "<file>: "
};

TEST_F(ConfigFiles, EveryErrorNamesFileKeyAndReason) {
  const Case cases[] = {
      {"unknown top-level key", "colour = 1\n" + kServers, "colour: unknown key"},
      {"unknown log key", "[log]\ndri = \"x\"\n" + kServers, "log.dri: unknown key"},
      {"unknown places key", "[places]\nkey = \"secret\"\n" + kServers, "places.key: unknown key"},
      {"unknown server key", kServers + "addr = \"x\"\n", "servers[2].addr: unknown key"},
      {"log not a table", "log = 3\n" + kServers, "log: expected a table, got an integer"},
      {"string for integer", "[places]\ntimeout_ms = \"5\"\n" + kServers,
       "places.timeout_ms: expected an integer, got a string"},
      {"float for integer", "[log]\nmax_line = 1.5\n" + kServers,
       "log.max_line: expected an integer, got a float"},
      {"integer for string", "[log]\ndir = 7\n" + kServers,
       "log.dir: expected a string, got an integer"},
      {"zero timeout", "[places]\ntimeout_ms = 0\n" + kServers,
       "places.timeout_ms: must be an integer from 1 to 86400000, got 0"},
      {"negative size", "[log]\nmax_bytes = -1\n" + kServers,
       "log.max_bytes: must be an integer from 1 to 1099511627776, got -1"},
      {"zero line", "[log]\nmax_line = 0\n" + kServers,
       "log.max_line: must be an integer from 1 to 1099511627776, got 0"},
      {"negative files", "[log]\nmax_files = -2\n" + kServers,
       "log.max_files: must be an integer from 0 to 1000, got -2"},
      {"empty log dir", "[log]\ndir = \"\"\n" + kServers, "log.dir: must not be empty"},
      {"bad url", "[places]\nurl = \"ftp://example.com\"\n" + kServers,
       "places.url: must start with http:// or https://, got \"ftp://example.com\""},
      {"bare scheme", "[places]\nurl = \"https://\"\n" + kServers,
       "places.url: must start with http:// or https://, got \"https://\""},
      {"bad new_url", "[places]\nnew_url = \"places.googleapis.com\"\n" + kServers,
       "places.new_url: must start with http:// or https://, got \"places.googleapis.com\""},
      {"unknown source", "[places]\nsource = \"Google\"\n" + kServers,
       "places.source: must be \"auto\", \"google\", \"google-new\" or \"offline\", got "
       "\"Google\""},
      {"source not a string", "[places]\nsource = 1\n" + kServers,
       "places.source: expected a string, got an integer"},
      {"negative ttl", "[places]\ncache_ttl_ms = -1\n" + kServers,
       "places.cache_ttl_ms: must be an integer from 0 to 86400000, got -1"},
      {"negative rate", "[places]\nmax_calls_per_second = -1\n" + kServers,
       "places.max_calls_per_second: must be an integer from 0 to 1000000, got -1"},
      {"zero burst", "[places]\nburst = 0\n" + kServers,
       "places.burst: must be an integer from 1 to 1000000, got 0"},
      {"zero concurrency", "[places]\nmax_concurrent_calls = 0\n" + kServers,
       "places.max_concurrent_calls: must be an integer from 1 to 100000, got 0"},
      {"offline_data not a string", "[places]\noffline_data = 3\n" + kServers,
       "places.offline_data: expected a string, got an integer"},
      {"unknown store key", "[store]\npath = \"x\"\n" + kServers, "store.path: unknown key"},
      {"empty store dir", "[store]\ndir = \"\"\n" + kServers, "store.dir: must not be empty"},
      {"unknown durability", "[store]\ndurability = \"fsync\"\n" + kServers,
       "store.durability: must be \"written\", \"synced\" or \"memory\", got \"fsync\""},
      {"negative record ttl", "[store]\nttl_s = -1\n" + kServers,
       "store.ttl_s: must be an integer from 0 to 315360000, got -1"},
      {"no servers", "[log]\nmax_line = 10\n", "servers: at least one server is required"},
      {"empty servers", "servers = []\n", "servers: at least one server is required"},
      {"servers a table", "[servers]\nname = \"A\"\n",
       "servers: expected an array of tables, got a table"},
      {"server not a table", "servers = [1]\n", "servers[0]: expected a table, got an integer"},
      {"missing name", "[[servers]]\nport = 1\n", "servers[0].name: missing"},
      {"missing port", "[[servers]]\nname = \"A\"\n", "servers[0].port: missing"},
      {"empty name", "[[servers]]\nname = \"\"\nport = 1\n", "servers[0].name: must not be empty"},
      {"white space in name", "[[servers]]\nname = \"A B\"\nport = 1\n",
       "servers[0].name: must not contain white space, got \"A B\""},
      {"newline in name", "[[servers]]\nname = \"A\\nB\"\nport = 1\n",
       "servers[0].name: must not contain white space, got \"A\\nB\""},
      {"slash in name", "[[servers]]\nname = \"../A\"\nport = 1\n",
       "servers[0].name: must not contain '/' or control characters, got \"../A\""},
      {"control character in name", "[[servers]]\nname = \"A\\u0001\"\nport = 1\n",
       "servers[0].name: must not contain '/' or control characters, got \"A\\x01\""},
      {"empty host", "[[servers]]\nname = \"A\"\nhost = \"\"\nport = 1\n",
       "servers[0].host: must not be empty"},
      {"port too big", "[[servers]]\nname = \"A\"\nport = 70000\n",
       "servers[0].port: must be an integer from 1 to 65535, got 70000"},
      {"port zero", "[[servers]]\nname = \"A\"\nport = 0\n",
       "servers[0].port: must be an integer from 1 to 65535, got 0"},
      {"port a string", "[[servers]]\nname = \"A\"\nport = \"80\"\n",
       "servers[0].port: expected an integer, got a string"},
      {"neighbours not an array", "[[servers]]\nname = \"A\"\nport = 1\nneighbours = \"B\"\n",
       "servers[0].neighbours: expected an array, got a string"},
      {"neighbour not a string", "[[servers]]\nname = \"A\"\nport = 1\nneighbours = [\"B\", 2]\n",
       "servers[0].neighbours[1]: expected a string, got an integer"},
      {"duplicate name", kServers + "[[servers]]\nname = \"B\"\nport = 2004\n",
       "servers[3].name: \"B\" is already the name of servers[1]"},
      {"duplicate address", kServers + "[[servers]]\nname = \"D\"\nport = 2002\n",
       "servers[3].port: 127.0.0.1:2002 is already used by servers[1] (B)"},
      {"unknown neighbour",
       kServers + "[[servers]]\nname = \"D\"\nport = 2004\nneighbours = [\"A\", \"Kent\"]\n",
       "servers[3].neighbours[1]: \"Kent\" is not a server of this herd (servers: A, B, C, D)"},
      {"own neighbour", kServers + "[[servers]]\nname = \"D\"\nport = 2004\nneighbours = [\"D\"]\n",
       "servers[3].neighbours[0]: \"D\" is this server itself; it cannot be its own neighbour"},
      {"neighbour twice",
       "[[servers]]\nname = \"A\"\nport = 1\nneighbours = [\"B\", \"B\"]\n"
       "[[servers]]\nname = \"B\"\nport = 2\nneighbours = [\"A\"]\n",
       "servers[0].neighbours[1]: \"B\" is listed twice"},
      {"one-way link",
       "[[servers]]\nname = \"A\"\nport = 1\n"
       "[[servers]]\nname = \"B\"\nport = 2\nneighbours = [\"A\"]\n",
       "servers[1].neighbours: B lists A, but A does not list B"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(error_of(c.content), herd_file() + ": " + c.message);
  }
}

TEST_F(ConfigFiles, PlacesSourceAndFrugalKeys) {
  const std::string path = write("herd.toml", R"(
[places]
source = "google-new"
new_url = "http://127.0.0.1:9/v1/places:searchNearby"
offline_data = "/srv/places.dat"
cache_ttl_ms = 60000
max_calls_per_second = 0
burst = 3
max_concurrent_calls = 2
)" + kServers);
  const HerdConfig herd = load_config(path);
  EXPECT_EQ(herd.places.source, PlacesSourceKind::kGoogleNew);
  EXPECT_EQ(herd.places.new_url, "http://127.0.0.1:9/v1/places:searchNearby");
  EXPECT_EQ(herd.places.offline_data, "/srv/places.dat");
  EXPECT_EQ(herd.places.cache_ttl, std::chrono::milliseconds(60000));
  EXPECT_EQ(herd.places.max_calls_per_second, 0u);
  EXPECT_EQ(herd.places.burst, 3u);
  EXPECT_EQ(herd.places.max_concurrent_calls, 2u);
  EXPECT_EQ(offline_data_file(herd.places), fs::path("/srv/places.dat"));

  for (auto kind : {PlacesSourceKind::kAuto, PlacesSourceKind::kGoogle,
                    PlacesSourceKind::kGoogleNew, PlacesSourceKind::kOffline}) {
    const std::string name(places_source_name(kind));
    SCOPED_TRACE(name);
    // NOLINTNEXTLINE(performance-inefficient-string-concatenation): four turns, in a test.
    EXPECT_EQ(load_config(write("s.toml", "[places]\nsource = \"" + name + "\"\n" + kServers))
                  .places.source,
              kind);
  }
}

TEST_F(ConfigFiles, StoreKeys) {
  const HerdConfig herd = load_config(
      write("herd.toml",
            "[store]\ndir = \"/srv/herd\"\ndurability = \"synced\"\nttl_s = 3600\n" + kServers));
  EXPECT_EQ(herd.store.dir, "/srv/herd");
  EXPECT_EQ(herd.store.durability, Durability::kSynced);
  EXPECT_EQ(herd.store.ttl, std::chrono::seconds(3600));
  EXPECT_EQ(data_file(herd.store, "Clark"), fs::path("/srv/herd/Clark.db"));
  for (auto kind : {Durability::kWritten, Durability::kSynced, Durability::kMemory}) {
    const std::string name(durability_name(kind));
    SCOPED_TRACE(name);
    // NOLINTNEXTLINE(performance-inefficient-string-concatenation): three turns, in a test.
    EXPECT_EQ(load_config(write("s.toml", "[store]\ndurability = \"" + name + "\"\n" + kServers))
                  .store.durability,
              kind);
  }
}

TEST(DefaultConfig, StoreDefaults) {
  const StoreConfig store = default_config().store;
  EXPECT_EQ(store.dir, "data");
  EXPECT_EQ(store.durability, Durability::kWritten);
  EXPECT_EQ(store.ttl, std::chrono::seconds(0));
}

TEST(DefaultConfig, PlacesDefaults) {
  const PlacesConfig places = default_config().places;
  EXPECT_EQ(places.source, PlacesSourceKind::kAuto);
  EXPECT_EQ(places.new_url, "https://places.googleapis.com/v1/places:searchNearby");
  EXPECT_EQ(places.cache_ttl, std::chrono::milliseconds(0));
  EXPECT_EQ(places.max_calls_per_second, 10u);
  EXPECT_EQ(places.burst, 20u);
  EXPECT_EQ(places.max_concurrent_calls, 16u);
  // The build puts the test executables in build/tests/unit and the data in build/data.
  const fs::path executable = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(offline_data_file(places),
            (executable.parent_path() / ".." / "data" / "places.dat").lexically_normal());
  EXPECT_EQ(default_offline_data().filename(), "places.dat");
}

// The tests run on one thread, so changing the environment races with nothing.
// NOLINTBEGIN(concurrency-mt-unsafe)
TEST_F(ConfigFiles, ApiKeyFromEnvironment) {
  PlacesConfig places;
  places.key_env = "HERD_CONFIG_TEST_KEY";
  ::unsetenv("HERD_CONFIG_TEST_KEY");
  EXPECT_EQ(resolve_api_key(places), "");
  ::setenv("HERD_CONFIG_TEST_KEY", "AIza-from-env", 1);
  EXPECT_EQ(resolve_api_key(places), "AIza-from-env");
  places.key_env.clear();
  EXPECT_EQ(resolve_api_key(places), "");
  ::unsetenv("HERD_CONFIG_TEST_KEY");
}

TEST_F(ConfigFiles, ApiKeyFileWinsAndIsTrimmed) {
  ::setenv("HERD_CONFIG_TEST_KEY", "AIza-from-env", 1);
  PlacesConfig places;
  places.key_env = "HERD_CONFIG_TEST_KEY";
  places.key_file = write("key", "  \tAIza-from-file\r\n\n");
  EXPECT_EQ(resolve_api_key(places), "AIza-from-file");
  places.key_file = write("blank", " \n");
  EXPECT_EQ(resolve_api_key(places), "");
  ::unsetenv("HERD_CONFIG_TEST_KEY");
}
// NOLINTEND(concurrency-mt-unsafe)

TEST_F(ConfigFiles, UnreadableApiKeyFileNamesPathNotContents) {
  PlacesConfig places;
  places.key_file = (dir_ / "no-such-key").string();
  try {
    resolve_api_key(places);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), ("places.key_file: cannot read \"" + places.key_file +
                                "\": No such file or directory")
                                   .c_str());
  }
}

}  // namespace
}  // namespace herd::config
