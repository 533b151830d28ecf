#include "places/offline/offline_body.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <numbers>

#include "json/styled_writer.hpp"

namespace herd::places::offline {

namespace {

namespace bj = boost::json;

constexpr double kDegreesPerRadian = 180 / std::numbers::pi;
constexpr double kPeoplePerSquareMetre = 2000.0 / 1e6;
constexpr double kSmallestHalfSide = 500;  // metres
// Keeps the longitude span finite next to a pole, where a metre is many degrees.
constexpr double kSmallestCosine = 1e-6;

double to_grid(double degrees) {
  return std::round(degrees * 1e7) / 1e7;
}

double wrapped_longitude(double degrees) {
  if (degrees > 180) return degrees - 360;
  if (degrees < -180) return degrees + 360;
  return degrees;
}

bj::object lat_lng(double latitude, double longitude) {
  return {{"lat", to_grid(latitude)}, {"lng", to_grid(wrapped_longitude(longitude))}};
}

bj::object viewport(const PlaceRecord& record) {
  const Point centre = point_of(record);
  const double half_side =
      std::max(kSmallestHalfSide, std::sqrt(record.population / kPeoplePerSquareMetre) / 2);
  const double half_height = half_side / kEarthRadiusMetres * kDegreesPerRadian;
  const double cosine = std::max(std::cos(centre.latitude / kDegreesPerRadian), kSmallestCosine);
  const double half_width = std::min(half_height / cosine, 180.0);
  return {
      {"northeast",
       lat_lng(std::min(centre.latitude + half_height, 90.0), centre.longitude + half_width)},
      {"southwest",
       lat_lng(std::max(centre.latitude - half_height, -90.0), centre.longitude - half_width)},
  };
}

bj::object result(const PlaceIndex& index, const PlaceRecord& record) {
  const Point centre = point_of(record);
  const char* kind = record.kind == PlaceKind::kNeighbourhood ? "neighborhood" : "locality";
  return {
      {"geometry",
       {{"location", {{"lat", centre.latitude}, {"lng", centre.longitude}}},
        {"viewport", viewport(record)}}},
      {"icon", kGeocodeIcon},
      {"name", index.name(record)},
      {"place_id", "geonames:" + std::to_string(record.geonames_id)},
      {"types", bj::array{kind, "political"}},
      {"vicinity", index.vicinity(record)},
  };
}

}  // namespace

std::string places_body(const PlaceIndex& index, std::span<const NearbyPlace> places) {
  bj::array results;
  for (const auto& place : places) results.push_back(result(index, *place.record));
  bj::object body;
  body["html_attributions"] = bj::array{kGeoNamesAttribution};
  body["status"] = results.empty() ? "ZERO_RESULTS" : "OK";
  body["results"] = std::move(results);
  return json::write_styled(body);
}

}  // namespace herd::places::offline
