// Google Places' legacy Nearby Search as a places source.
//
// GET <url>?location=LAT,LNG&radius=METRES&key=KEY over the shared HttpClient. A JSON answer
// is passed on byte for byte, whatever its status; no answer in time, an HTTP error or a
// body that is not JSON becomes an UNKNOWN_ERROR body that says what failed.
#pragma once

#include <memory>
#include <string>

#include "log/event_log.hpp"
#include "places/http_client.hpp"
#include "places/places_source.hpp"

namespace herd::places {

class GoogleLegacySource : public PlacesSource {
 public:
  // `url` is the endpoint without a query (one is appended with '&' if it has one).
  GoogleLegacySource(std::shared_ptr<HttpClient> http, std::string url, std::string api_key,
                     log::EventLog& log);

  boost::asio::awaitable<std::string> nearby(PlacesQuery query) override;

 private:
  std::shared_ptr<HttpClient> http_;
  std::string url_;
  std::string api_key_;
  log::EventLog& log_;
};

}  // namespace herd::places
