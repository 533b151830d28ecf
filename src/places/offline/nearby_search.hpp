// The places within a radius of a point, most prominent first: by population, then by
// distance, then by GeoNames id (so that the order is total and the same on every server).
//
// Distances are great-circle distances on a sphere of the Earth's mean radius (haversine).
// Candidates come only from the grid cells that overlap the circle's bounding box; the box is
// exact on the sphere, so no place within the radius is missed, at the poles and across the
// antimeridian included. No allocation besides the answer's.
#pragma once

#include <cstddef>
#include <vector>

#include "places/offline/place_index.hpp"

namespace herd::places::offline {

inline constexpr double kEarthRadiusMetres = 6'371'008.8;  // IUGG mean radius
inline constexpr std::size_t kMostPlaces = 20;

struct Point {
  double latitude;   // degrees
  double longitude;  // degrees
};

struct NearbyPlace {
  const PlaceRecord* record;
  double metres;
};

Point point_of(const PlaceRecord& record);

double great_circle_metres(Point a, Point b);

// Whether `a` comes before `b` in an answer.
bool ranks_before(const NearbyPlace& a, const NearbyPlace& b);

// At most `limit` places within `radius_metres` (inclusive) of `centre`, best first.
std::vector<NearbyPlace> nearby_places(const PlaceIndex& index, Point centre, double radius_metres,
                                       std::size_t limit = kMostPlaces);

}  // namespace herd::places::offline
