#include "server/serve.hpp"

#include <malloc.h>
#include <sys/stat.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "log/event_log.hpp"
#include "places/frugal_source.hpp"
#include "places/google_legacy.hpp"
#include "places/google_new.hpp"
#include "places/http_client.hpp"
#include "places/offline/offline_source.hpp"
#include "server/server.hpp"

namespace herd::server {

namespace asio = boost::asio;

namespace {

std::unique_ptr<places::PlacesSource> open_offline(const config::HerdConfig& herd,
                                                   const std::string& why, log::EventLog& log) {
  const std::filesystem::path file = config::offline_data_file(herd.places);
  std::unique_ptr<places::PlacesSource> source;
  try {
    source = places::offline::open_offline_source(file);
  } catch (const std::exception& e) {
    throw config::ConfigError(herd.source + ": places.offline_data: " + e.what() + " (" + why +
                              "; scripts/fetch-places-data and a build make the file)");
  }
  log.event("places source: offline, places file " + file.string() + " (" + why + ")");
  return source;
}

// The paid sources share one HTTP client and one FrugalSource in front of them.
std::unique_ptr<places::PlacesSource> open_paid(asio::io_context& io,
                                                const config::HerdConfig& herd, bool new_api,
                                                std::string key, const std::string& why,
                                                log::EventLog& log) {
  const auto& places = herd.places;
  std::shared_ptr<places::HttpClient> http;
  try {
    http = std::make_shared<places::HttpClient>(io.get_executor(), places.ca_file, places.timeout);
  } catch (const places::HttpError& e) {
    throw config::ConfigError(herd.source + ": places.ca_file: " + e.what());
  }
  if (key.empty()) {
    log.failure("no places API key: neither places.key_file nor $" + places.key_env +
                " gives one; the places source will refuse WHATSAT queries");
  }
  std::unique_ptr<places::PlacesSource> upstream;
  if (new_api) {
    log.event("places source: Google Places API (New) Nearby Search at " +
              log::redact_url(places.new_url) + " (" + why + ")");
    upstream = std::make_unique<places::GoogleNewSource>(
        places::GoogleEndpoint{std::move(http), places.new_url, std::move(key), log});
  } else {
    log.event("places source: Google legacy Nearby Search at " + log::redact_url(places.url) +
              " (" + why + ")");
    upstream = std::make_unique<places::GoogleLegacySource>(
        places::GoogleEndpoint{std::move(http), places.url, std::move(key), log});
  }

  places::FrugalOptions frugal;
  frugal.cache_ttl = places.cache_ttl;
  frugal.max_calls_per_second = places.max_calls_per_second;
  frugal.burst = places.burst;
  frugal.max_concurrent_calls = places.max_concurrent_calls;
  frugal.slot_wait = places.timeout;
  log.event("places calls: identical queries share a call; cache " +
            (places.cache_ttl.count() ? std::to_string(places.cache_ttl.count()) + " ms" : "off") +
            "; at most " +
            (places.max_calls_per_second
                 ? std::to_string(places.max_calls_per_second) + " a second (burst " +
                       std::to_string(places.burst) + ")"
                 : "unlimited a second") +
            " and " + std::to_string(places.max_concurrent_calls) + " at once");
  return std::make_unique<places::FrugalSource>(io.get_executor(), std::move(upstream), frugal,
                                                log);
}

// The places source `places.source` names; `auto` is the legacy API when a key is
// configured, offline otherwise.
std::unique_ptr<places::PlacesSource> make_places_source(asio::io_context& io,
                                                         const config::HerdConfig& herd,
                                                         log::EventLog& log) {
  using Kind = config::PlacesSourceKind;
  const auto& places = herd.places;
  const std::string chosen =
      "places.source = " + std::string(config::places_source_name(places.source));
  switch (places.source) {
    case Kind::kOffline:
      return open_offline(herd, chosen, log);
    case Kind::kGoogle:
      return open_paid(io, herd, false, config::resolve_api_key(places), chosen, log);
    case Kind::kGoogleNew:
      return open_paid(io, herd, true, config::resolve_api_key(places), chosen, log);
    case Kind::kAuto:
      break;
  }
  std::string key = config::resolve_api_key(places);
  const std::string key_place = places.key_file.empty() ? "$" + places.key_env : "places.key_file";
  if (key.empty()) return open_offline(herd, chosen + " and no API key in " + key_place, log);
  return open_paid(io, herd, false, std::move(key), chosen + " and an API key in " + key_place,
                   log);
}

bool listens_on_loopback_only(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code error;
  const auto address = asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

// The link secret, or empty where links may go without one; refuses to start a server
// that listens beyond loopback with unauthenticated links unless the config says so.
std::string link_secret(const config::HerdConfig& herd, const config::ServerConfig& self,
                        log::EventLog& log) {
  std::string secret = config::resolve_link_secret(herd.links);
  if (!secret.empty()) {
    log.event("neighbour links are authenticated with the link secret");
    return secret;
  }
  const std::string where =
      herd.links.secret_file.empty() ? "$" + herd.links.secret_env : "links.secret_file";
  if (herd.links.unauthenticated) {
    log.failure("neighbour links are unauthenticated: links.unauthenticated = true");
  } else if (listens_on_loopback_only(self.host)) {
    log.failure("neighbour links are unauthenticated: no secret in " + where + "; allowed as " +
                self.name + " listens on loopback only");
  } else {
    throw config::ConfigError(herd.source + ": links: " + self.name + " listens on " + self.host +
                              ", beyond loopback, but no link secret is set (" + where +
                              "); set one, or links.unauthenticated = true for a " +
                              "closed network");
  }
  return {};
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
  // The data files hold every client's latest location and the logs every line received:
  // what the server creates is its user's alone, whatever the umask it was started with.
  // (A default ACL on a directory still lets an operator share its files: docs/security.md.)
  ::umask(::umask(0) | S_IRWXG | S_IRWXO);

  const unsigned threads = std::max(1u, options.threads);
  asio::io_context io(static_cast<int>(threads));
  log::EventLog log(herd.log, self->name);
  log.defer_flushes([&io](std::function<void()> work) { asio::post(io, std::move(work)); });
  // Signals are caught from before the server opens its data files until after it has
  // closed them. A SIGHUP meanwhile (logrotate's) waits for the loop instead of ending the
  // process, and so does a SIGINT or SIGTERM: a stop asked during start-up happens once the
  // server runs, and a second one during a stop is absorbed. Ctrl-C under `herd up` sends
  // both, the terminal's SIGINT and then up's SIGTERM, and killed half way through closing
  // its files a server would leave them to be recovered at its next start. Both sets share
  // a strand, as the stop cancels the wait for SIGHUP that a SIGHUP's handler may renew.
  const auto signal_strand = asio::make_strand(io);
  asio::signal_set hangup(signal_strand, SIGHUP);
  asio::signal_set signals(signal_strand, SIGINT, SIGTERM);

  std::string secret = link_secret(herd, *self, log);
  Server server(io, herd, *self, make_places_source(io, herd, log), std::move(secret), log);
  // What start-up read from the data files and folded is freed by now, in holes between the
  // records that glibc would keep for reuse. Given back, a restarted server holds what one
  // that received the same records over its links does (bench/catch_up prints both).
  malloc_trim(0);
  server.start();

  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& error, int) {
        if (error) return;
        log.reopen();
        hangup.async_wait(on_hangup);
      };
  hangup.async_wait(on_hangup);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    log.event(self->name + " stopping on signal " + std::to_string(signal));
    server.stop();
    hangup.cancel();
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
