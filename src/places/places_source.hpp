// A places source: where WHATSAT gets the places near a location.
//
// A source answers with the text of a legacy Nearby Search body: the upstream's own bytes
// when it answered with JSON, or a body of the same shape with status UNKNOWN_ERROR (and an
// error_message saying what failed, never a secret) when it did not. It never throws for an
// upstream failure, and it answers within its configured timeout.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

namespace herd::places {

struct PlacesQuery {
  std::string latitude;       // decimal degrees without '+': "34.068930"
  std::string longitude;      // "-118.445127"
  std::string radius_metres;  // exact decimal: "10000", "0.1"
};

class PlacesSource {
 public:
  virtual ~PlacesSource() = default;

  // Safe to call from several connections at once; each call is independent.
  virtual boost::asio::awaitable<std::string> nearby(PlacesQuery query) = 0;
};

}  // namespace herd::places
