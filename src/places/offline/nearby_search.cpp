#include "places/offline/nearby_search.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace herd::places::offline {

namespace {

constexpr double kRadiansPerDegree = std::numbers::pi / 180;
// Widens the box by far more than rounding can move it (1e-6 degree is about 0.1 m), so a
// place exactly on the circle is not lost to the cell arithmetic.
constexpr double kMarginDegrees = 1e-6;

// The cells overlapping the circle: rows [first_row, last_row] and, modulo kCellCols,
// columns [first_col, first_col + col_count).
struct CellRange {
  std::uint32_t first_row;
  std::uint32_t last_row;
  std::int64_t first_col;
  std::int64_t col_count;
};

std::int64_t cell_units_floor(double degrees) {
  return static_cast<std::int64_t>(std::floor(degrees * kUnitsPerDegree / kCellUnits));
}

std::uint32_t row_of(double latitude) {
  const auto row = cell_units_floor(latitude + 90);
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(row, 0, kCellRows - 1));
}

CellRange cells_around(Point centre, double radius_metres) {
  // Radians; no circle is wider than the whole sphere.
  const double angle = std::min(radius_metres / kEarthRadiusMetres, std::numbers::pi);
  const double angle_degrees = angle / kRadiansPerDegree + kMarginDegrees;
  const double south = centre.latitude - angle_degrees;
  const double north = centre.latitude + angle_degrees;
  CellRange range{row_of(south), row_of(north), 0, kCellCols};
  if (south <= -90 || north >= 90 || angle >= std::numbers::pi / 2) return range;  // a pole
  // The meridians tangent to the circle (the circle holds no pole, so they exist).
  const double sine = std::sin(angle) / std::cos(centre.latitude * kRadiansPerDegree);
  if (sine >= 1) return range;
  const double half_width = std::asin(sine) / kRadiansPerDegree + kMarginDegrees;
  const auto first = cell_units_floor(centre.longitude - half_width + 180);
  const auto last = cell_units_floor(centre.longitude + half_width + 180);
  range.first_col = first;
  range.col_count = std::min<std::int64_t>(last - first + 1, kCellCols);
  return range;
}

std::uint32_t wrap_col(std::int64_t col) {
  const auto cols = std::int64_t{kCellCols};
  return static_cast<std::uint32_t>(((col % cols) + cols) % cols);
}

// Keeps the best `limit` places seen so far, sorted; places arrive in any order.
void offer(std::vector<NearbyPlace>& best, std::size_t limit, const NearbyPlace& place) {
  if (best.size() == limit && !ranks_before(place, best.back())) return;
  const auto at = std::upper_bound(best.begin(), best.end(), place, ranks_before);
  if (best.size() == limit) best.pop_back();
  best.insert(at, place);
}

}  // namespace

Point point_of(const PlaceRecord& record) {
  return {record.latitude / kUnitsPerDegree, record.longitude / kUnitsPerDegree};
}

double great_circle_metres(Point a, Point b) {
  const double lat_a = a.latitude * kRadiansPerDegree;
  const double lat_b = b.latitude * kRadiansPerDegree;
  const double half_dlat = (lat_b - lat_a) / 2;
  const double half_dlng = (b.longitude - a.longitude) * kRadiansPerDegree / 2;
  const double s = std::sin(half_dlat) * std::sin(half_dlat) +
                   std::cos(lat_a) * std::cos(lat_b) * std::sin(half_dlng) * std::sin(half_dlng);
  return 2 * kEarthRadiusMetres * std::asin(std::sqrt(std::clamp(s, 0.0, 1.0)));
}

bool ranks_before(const NearbyPlace& a, const NearbyPlace& b) {
  if (a.record->population != b.record->population) {
    return a.record->population > b.record->population;
  }
  if (a.metres != b.metres) return a.metres < b.metres;
  return a.record->geonames_id < b.record->geonames_id;
}

std::vector<NearbyPlace> nearby_places(const PlaceIndex& index, Point centre, double radius_metres,
                                       std::size_t limit) {
  std::vector<NearbyPlace> best;
  if (limit == 0 || !(radius_metres >= 0)) return best;
  best.reserve(limit);
  const CellRange range = cells_around(centre, radius_metres);
  for (auto row = range.first_row; row <= range.last_row; ++row) {
    for (std::int64_t col = range.first_col; col < range.first_col + range.col_count; ++col) {
      for (const PlaceRecord& record : index.cell(row, wrap_col(col))) {
        const double metres = great_circle_metres(centre, point_of(record));
        if (metres <= radius_metres) offer(best, limit, {&record, metres});
      }
    }
  }
  return best;
}

}  // namespace herd::places::offline
