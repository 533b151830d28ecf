// Google's Places API (New) Nearby Search as a places source ("google-new").
//
// POST <url> with X-Goog-Api-Key, an explicit X-Goog-FieldMask (kNewApiFieldMask: the
// fields translated, and no more, since the mask decides what Google bills) and a body of
// `locationRestriction.circle` and `maxResultCount` 20. The answer comes back translated into
// the legacy body (new_to_legacy.hpp); an HTTP error becomes the legacy status it stands for
// with Google's message; no answer in time, or an answer that is not JSON, becomes
// UNKNOWN_ERROR, as with the legacy source. The key is sent in a header only, never logged.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "places/google_endpoint.hpp"
#include "places/places_source.hpp"

namespace herd::places {

class GoogleNewSource : public PlacesSource {
 public:
  explicit GoogleNewSource(GoogleEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  boost::asio::awaitable<std::string> nearby(PlacesQuery query) override;

 private:
  GoogleEndpoint endpoint_;
};

// The JSON body of a searchNearby request for `query`, its numbers exactly as the client
// wrote them; nullopt if one is not a decimal.
std::optional<std::string> search_nearby_body(const PlacesQuery& query);

}  // namespace herd::places
