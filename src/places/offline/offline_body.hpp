// The body the offline places source answers with: a legacy Nearby Search body in Google's
// layout and schema, so that a client cannot tell it from Google's by shape.
//
// `html_attributions` credits GeoNames (CC BY 4.0); each result has `geometry.location`,
// `geometry.viewport`, `icon` (Google's generic geocode icon), `name`, `place_id`
// ("geonames:<id>"), `types` (["locality", "political"], or ["neighborhood", "political"] for
// a section of a populated place) and `vicinity`; `status` is "OK", or "ZERO_RESULTS" with
// `results` []. The viewport is the square a place of its population would cover at 2,000
// inhabitants a km², at least 1 km a side, its corners rounded to 1e-7 degree.
#pragma once

#include <span>
#include <string>

#include "places/offline/nearby_search.hpp"
#include "places/offline/place_index.hpp"

namespace herd::places::offline {

inline constexpr const char* kGeoNamesAttribution =
    "Place data from <a href=\"https://www.geonames.org/\">GeoNames</a>, CC BY 4.0";
inline constexpr const char* kGeocodeIcon =
    "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/geocode-71.png";

std::string places_body(const PlaceIndex& index, std::span<const NearbyPlace> places);

}  // namespace herd::places::offline
