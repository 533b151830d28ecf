// The offline places source: WHATSAT answered from GeoNames' populated places (cities500),
// with no network, from the places file built by herd-places-build and mapped at start.
//
// It answers every place within the radius, most prominent first, at most 20 (the server
// trims to the client's bound), in the legacy Nearby Search shape (offline_body.hpp). A query
// whose numbers cannot be read is answered INVALID_REQUEST, as Google would; it never throws.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "places/offline/place_index.hpp"
#include "places/places_source.hpp"

namespace herd::places::offline {

class OfflinePlacesSource : public PlacesSource {
 public:
  explicit OfflinePlacesSource(PlaceIndex index) : index_(std::move(index)) {}

  boost::asio::awaitable<std::string> nearby(PlacesQuery query) override;

  // The body `nearby` answers with, computed at once (a search takes microseconds).
  std::string answer(const PlacesQuery& query) const;

 private:
  PlaceIndex index_;
};

// Maps and validates the places file; throws std::runtime_error naming it when it is missing,
// truncated or corrupt.
std::unique_ptr<PlacesSource> open_offline_source(const std::filesystem::path& data_file);

}  // namespace herd::places::offline
