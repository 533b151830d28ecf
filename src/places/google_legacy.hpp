// Google Places' legacy Nearby Search as a places source.
//
// GET <url>?location=LAT,LNG&radius=METRES&key=KEY over the shared HttpClient. A JSON answer
// is passed on byte for byte, whatever its status; no answer in time, an HTTP error or a
// body that is not JSON becomes an UNKNOWN_ERROR body that says what failed.
#pragma once

#include <string>
#include <utility>

#include "places/google_endpoint.hpp"
#include "places/places_source.hpp"

namespace herd::places {

class GoogleLegacySource : public PlacesSource {
 public:
  // `endpoint.url` is the endpoint without a query (one is appended with '&' if it has one).
  explicit GoogleLegacySource(GoogleEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  boost::asio::awaitable<std::string> nearby(PlacesQuery query) override;

 private:
  GoogleEndpoint endpoint_;
};

}  // namespace herd::places
