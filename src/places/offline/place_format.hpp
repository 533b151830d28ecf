// The layout of the offline places file (build/<dir>/data/places.dat), shared by the builder
// that writes it and the index that maps it.
//
// One file, native byte order (a byte-order mark says which), every section 8-byte aligned:
//   FileHeader | cell table | records | string table
// The world is cut into a grid of cells kCellDegrees on a side, row-major from (-90, -180).
// Records are fixed-size and sorted by cell (then GeoNames id), so the records of cell c are
// records[cells[c], cells[c + 1]); the cell table has rows * cols + 1 entries. The string
// table holds each record's name and vicinity as plain UTF-8, located by offset and length.
#pragma once

#include <array>
#include <cstdint>

namespace herd::places::offline {

inline constexpr std::array<char, 8> kMagic{'H', 'E', 'R', 'D', 'P', 'L', 'C', 'S'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint32_t kByteOrderMark = 0x01020304;

// Coordinates are kept in units of 1e-7 degree (about 1 cm), as int32.
inline constexpr double kUnitsPerDegree = 1e7;
inline constexpr std::int32_t kCellUnits = 2'500'000;  // 0.25 degree: about 28 km of latitude
inline constexpr std::uint32_t kCellRows = 180 * 4;
inline constexpr std::uint32_t kCellCols = 360 * 4;
inline constexpr std::uint32_t kCellCount = kCellRows * kCellCols;

// What GeoNames' feature code makes of a place: PPLX is a section of a populated place.
enum class PlaceKind : std::uint8_t { kLocality = 0, kNeighbourhood = 1 };

struct FileHeader {
  std::array<char, 8> magic;
  std::uint32_t version;
  std::uint32_t byte_order;
  std::uint32_t record_size;
  std::uint32_t record_count;
  std::uint32_t cell_units;
  std::uint32_t cell_rows;
  std::uint32_t cell_cols;
  std::uint32_t reserved;
  std::uint64_t cells_offset;
  std::uint64_t records_offset;
  std::uint64_t strings_offset;
  std::uint64_t strings_size;
  std::uint64_t file_size;
};
static_assert(sizeof(FileHeader) == 80);

struct PlaceRecord {
  std::int32_t latitude;   // 1e-7 degree, [-90, 90]
  std::int32_t longitude;  // 1e-7 degree, [-180, 180]
  std::uint32_t population;
  std::uint32_t geonames_id;
  std::uint32_t name_offset;  // into the string table
  std::uint32_t vicinity_offset;
  std::uint8_t name_size;
  std::uint8_t vicinity_size;
  PlaceKind kind;
  std::uint8_t reserved;
};
static_assert(sizeof(PlaceRecord) == 28);

// The cell holding a coordinate. The edges (latitude 90, longitude 180) fall in the last row
// and the first column: longitude 180 is longitude -180.
constexpr std::uint32_t cell_row(std::int32_t latitude) {
  const auto row = static_cast<std::uint32_t>((std::int64_t{latitude} + 900'000'000) / kCellUnits);
  return row < kCellRows ? row : kCellRows - 1;
}

constexpr std::uint32_t cell_col(std::int32_t longitude) {
  const auto col =
      static_cast<std::uint32_t>((std::int64_t{longitude} + 1'800'000'000) / kCellUnits);
  return col % kCellCols;
}

constexpr std::uint32_t cell_of(const PlaceRecord& record) {
  return cell_row(record.latitude) * kCellCols + cell_col(record.longitude);
}

}  // namespace herd::places::offline
