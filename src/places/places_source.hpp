// A places source: where WHATSAT gets the places near a location.
//
// A source answers with the text of a legacy Nearby Search body: the upstream's own bytes
// when it answered with legacy JSON, a translation into that schema when its upstream speaks
// another (google_new.hpp), or a body of the same shape with an error status (UNKNOWN_ERROR
// when the upstream gave no usable answer; OVER_QUERY_LIMIT when herd's own limits refused
// the call, frugal_source.hpp) and an error_message saying what failed, never a secret. It
// never throws for an upstream failure, and it answers within its configured timeout (twice
// that at most behind FrugalSource, when the query first waits for a free call slot).
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
