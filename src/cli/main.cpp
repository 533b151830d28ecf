// The `herd` command: `serve` runs one server, `up` runs a whole herd, `check` validates a
// configuration. Usage and configuration errors exit with status 2.
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/supervisor.hpp"
#include "config/config.hpp"
#include "server/serve.hpp"

namespace {

constexpr int kUsageError = 2;

// A --config option that was not given means the built-in default.
herd::config::HerdConfig load(const std::optional<std::string>& file) {
  return file ? herd::config::load_config(*file) : herd::config::default_config();
}

std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

int serve(const std::optional<std::string>& file, const std::string& name, unsigned threads) {
  const herd::config::HerdConfig herd = load(file);
  if (herd.find(name) == nullptr) {
    std::cerr << "herd: no server named \"" << name << "\" in " << herd.source
              << "; servers: " << herd.server_names() << "\n";
    return kUsageError;
  }
  return herd::server::serve(herd, name, herd::server::ServeOptions{threads});
}

int check(const std::optional<std::string>& file) {
  const herd::config::HerdConfig herd = load(file);
  const std::size_t count = herd.servers.size();
  std::cout << "ok: " << herd.source << ": " << count << (count == 1 ? " server" : " servers")
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A herd of servers that share client locations and answer nearby-places queries.",
               "herd"};
  app.require_subcommand(1);

  const std::string config_help = "TOML configuration file (default: the built-in herd)";
  std::string config_file;

  CLI::App* serve_command = app.add_subcommand("serve", "Run one server of the herd");
  std::string name;
  unsigned threads = 1;
  serve_command->add_option("NAME", name, "Name of the server to run")->required();
  const CLI::Option* serve_config = serve_command->add_option("--config", config_file, config_help);
  serve_command->add_option("--threads", threads, "Event-loop threads")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();

  CLI::App* up_command =
      app.add_subcommand("up", "Run every server of the herd, one child process each");
  const CLI::Option* up_config = up_command->add_option("--config", config_file, config_help);

  CLI::App* check_command = app.add_subcommand("check", "Validate a configuration and exit");
  const CLI::Option* check_config = check_command->add_option("--config", config_file, config_help);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 prints help or the error itself; only its exit codes are replaced.
    return app.exit(error) == 0 ? 0 : kUsageError;
  }

  try {
    if (*serve_command) return serve(given(serve_config, config_file), name, threads);
    if (*up_command) {
      const std::optional<std::string> file = given(up_config, config_file);
      return herd::cli::run_herd(load(file), file);
    }
    return check(given(check_config, config_file));
  } catch (const herd::config::ConfigError& error) {
    std::cerr << "herd: " << error.what() << "\n";
    return kUsageError;
  } catch (const std::exception& error) {
    std::cerr << "herd: " << error.what() << "\n";
    return 1;
  }
}
