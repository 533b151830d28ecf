// Fuzz target: the config loader on any file content. load_config must return a herd or
// throw ConfigError, whose message is one line that names the file; any other exception, a
// crash or a sanitizer report is a finding. A herd it returns must keep the promises of
// config.hpp: named servers on real ports, unique names and addresses, and every link listed
// on both sides.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_support.hpp"

namespace {

using herd::fuzz::require;
using namespace herd::config;

// One temp dir a fuzzing process, made at the first input and removed at exit.
class TempFile {
 public:
  TempFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "herd-fuzz-config-XXXXXX");
    require(::mkdtemp(pattern.data()) != nullptr, "a temp dir can be made");
    directory_ = pattern;
    path_ = directory_ / "herd.toml";
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  const std::filesystem::path& write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    require(out.good(), "the temp file can be written");
    return path_;
  }

 private:
  std::filesystem::path directory_;
  std::filesystem::path path_;
};

void check_herd(const HerdConfig& herd) {
  for (const ServerConfig& server : herd.servers) {
    require(!server.name.empty() && !server.host.empty(), "servers have names and hosts");
    require(server.port != 0, "servers have ports");
    require(herd.find(server.name) == &server, "names are unique");
    for (const ServerConfig& other : herd.servers) {
      require(&other == &server || other.host != server.host || other.port != server.port,
              "addresses are unique");
    }
    for (const std::string& name : server.neighbours) {
      const ServerConfig* neighbour = herd.find(name);
      require(neighbour != nullptr && neighbour != &server, "neighbours are other servers");
      bool back = false;
      for (const std::string& its : neighbour->neighbours) back = back || its == server.name;
      require(back, "links are listed on both sides");
    }
  }
  require(herd.places.timeout.count() > 0, "places deadline is positive");
  require(herd.log.max_bytes > 0 && herd.log.max_line > 0, "log sizes are positive");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const TempFile file;
  const auto& path = file.write({reinterpret_cast<const char*>(data), size});
  try {
    check_herd(load_config(path));
  } catch (const ConfigError& error) {
    // Refused: what a doubtful file must get, with a one-line message that names the file.
    const std::string_view message = error.what();
    require(message.starts_with(path.string() + ":"), "a config error names the file");
    for (const char c : message) {
      const auto byte = static_cast<unsigned char>(c);
      require(byte >= 0x20 && byte != 0x7f, "a config error is one printable line");
    }
  } catch (const std::exception& other) {
    std::fprintf(stderr, "load_config threw something other than ConfigError: %s\n", other.what());
    std::abort();
  }
  return 0;
}
