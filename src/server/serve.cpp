#include "server/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "log/event_log.hpp"
#include "places/google_legacy.hpp"
#include "places/http_client.hpp"
#include "server/server.hpp"

namespace herd::server {

namespace asio = boost::asio;

namespace {

std::unique_ptr<places::PlacesSource> make_places_source(asio::io_context& io,
                                                         const config::HerdConfig& herd,
                                                         log::EventLog& log) {
  const auto& places = herd.places;
  std::shared_ptr<places::HttpClient> http;
  try {
    http = std::make_shared<places::HttpClient>(io.get_executor(), places.ca_file, places.timeout);
  } catch (const places::HttpError& e) {
    throw config::ConfigError(herd.source + ": places.ca_file: " + e.what());
  }
  std::string key = config::resolve_api_key(places);
  if (key.empty()) {
    log.failure("no places API key: neither places.key_file nor $" + places.key_env +
                " gives one; the places source will refuse WHATSAT queries");
  }
  log.event("places source: Google legacy Nearby Search at " + log::redact_url(places.url));
  return std::make_unique<places::GoogleLegacySource>(std::move(http), places.url, std::move(key),
                                                      log);
}

}  // namespace

int serve(const config::HerdConfig& herd, std::string_view name, const ServeOptions& options) {
  const config::ServerConfig* self = herd.find(name);
  if (!self) {
    throw config::ConfigError(herd.source + ": no server named \"" + std::string(name) +
                              "\"; servers: " + herd.server_names());
  }
  // Writes to a peer that has gone must fail with an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  const unsigned threads = std::max(1u, options.threads);
  asio::io_context io(static_cast<int>(threads));
  log::EventLog log(herd.log, self->name);
  Server server(io, herd, *self, make_places_source(io, herd, log), log);
  server.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    log.event(self->name + " stopping on signal " + std::to_string(signal));
    server.stop();
    io.stop();
  });

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : pool) thread.join();
  log.flush();
  return 0;
}

}  // namespace herd::server
