// The offline places file, mapped read-only into memory.
//
// Opening validates the whole file (magic, version, byte order, section bounds, the cell
// table, every record's cell and strings), so that a search can trust it afterwards; a file
// that is missing, truncated or corrupt is refused with a std::runtime_error naming it.
// Nothing is copied: records and strings are read from the mapping, which lives as long as
// the index. Read-only, so safe to share between threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

#include "places/offline/place_format.hpp"

namespace herd::places::offline {

class PlaceIndex {
 public:
  explicit PlaceIndex(const std::filesystem::path& file);
  ~PlaceIndex();
  PlaceIndex(PlaceIndex&& other) noexcept;
  PlaceIndex& operator=(PlaceIndex&& other) noexcept;
  PlaceIndex(const PlaceIndex&) = delete;
  PlaceIndex& operator=(const PlaceIndex&) = delete;

  // Every record, sorted by cell.
  std::span<const PlaceRecord> records() const { return records_; }

  // The records of one cell of the grid (row < kCellRows, col < kCellCols).
  std::span<const PlaceRecord> cell(std::uint32_t row, std::uint32_t col) const;

  std::string_view name(const PlaceRecord& record) const {
    return strings_.substr(record.name_offset, record.name_size);
  }
  std::string_view vicinity(const PlaceRecord& record) const {
    return strings_.substr(record.vicinity_offset, record.vicinity_size);
  }

 private:
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
  std::span<const std::uint32_t> cells_;
  std::span<const PlaceRecord> records_;
  std::string_view strings_;
};

}  // namespace herd::places::offline
