#include "places/offline/place_file_builder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "places/offline/place_format.hpp"

namespace herd::places::offline {

namespace {

constexpr std::size_t kFieldCount = 19;
constexpr std::size_t kMaxStringSize = std::numeric_limits<std::uint8_t>::max();

enum Field : std::size_t {
  kId = 0,
  kName = 1,
  kLatitude = 4,
  kLongitude = 5,
  kFeatureClass = 6,
  kFeatureCode = 7,
  kCountry = 8,
  kAdmin1 = 10,
  kPopulation = 14,
};

using Fields = std::array<std::string_view, kFieldCount>;

class LineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool split_fields(std::string_view line, Fields& fields) {
  std::size_t count = 0;
  while (true) {
    const auto tab = line.find('\t');
    if (count == kFieldCount) return false;
    fields[count++] = line.substr(0, tab);
    if (tab == std::string_view::npos) break;
    line.remove_prefix(tab + 1);
  }
  return count == kFieldCount;
}

template <class Number>
Number parse_number(std::string_view text, const char* what) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw LineError(std::string("bad ") + what + " '" + std::string(text) + "'");
  }
  return value;
}

std::int32_t parse_degrees(std::string_view text, double limit, const char* what) {
  const auto degrees = parse_number<double>(text, what);
  if (!(std::fabs(degrees) <= limit)) {
    throw LineError(std::string(what) + " out of range: " + std::string(text));
  }
  return static_cast<std::int32_t>(std::lround(degrees * kUnitsPerDegree));
}

// Cuts UTF-8 text to at most kMaxStringSize bytes without splitting a character.
std::string_view fit(std::string_view text) {
  if (text.size() <= kMaxStringSize) return text;
  std::size_t size = kMaxStringSize;
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
  return text.substr(0, size);
}

std::string vicinity(std::string_view admin1, std::string_view country) {
  const bool readable = std::any_of(admin1.begin(), admin1.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
  if (!readable) return std::string(country);
  return std::string(admin1) + ", " + std::string(country);
}

// The string table, each distinct string once.
class StringTable {
 public:
  std::uint32_t add(std::string_view text) {
    const auto [it, inserted] =
        offsets_.try_emplace(std::string(text), static_cast<std::uint32_t>(bytes_.size()));
    if (inserted) {
      if (bytes_.size() + text.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw std::runtime_error("string table over 4 GiB");
      }
      bytes_ += text;
    }
    return it->second;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::unordered_map<std::string, std::uint32_t> offsets_;
  std::string bytes_;
};

// A record from one line; false for a line that is not a populated place.
bool parse_place(std::string_view line, StringTable& strings, PlaceRecord& record) {
  Fields fields;
  if (!split_fields(line, fields)) {
    throw LineError("expected " + std::to_string(kFieldCount) + " tab-separated fields");
  }
  if (fields[kFeatureClass] != "P") return false;
  record = PlaceRecord{};
  record.geonames_id = parse_number<std::uint32_t>(fields[kId], "geonameid");
  record.latitude = parse_degrees(fields[kLatitude], 90, "latitude");
  record.longitude = parse_degrees(fields[kLongitude], 180, "longitude");
  const auto population = parse_number<std::uint64_t>(fields[kPopulation], "population");
  record.population = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(population, std::numeric_limits<std::uint32_t>::max()));
  const auto name = fit(fields[kName]);
  if (name.empty()) throw LineError("empty name");
  record.name_offset = strings.add(name);
  record.name_size = static_cast<std::uint8_t>(name.size());
  const auto place_vicinity = vicinity(fields[kAdmin1], fields[kCountry]);
  const auto fitted = fit(place_vicinity);
  record.vicinity_offset = strings.add(fitted);
  record.vicinity_size = static_cast<std::uint8_t>(fitted.size());
  record.kind = fields[kFeatureCode] == "PPLX" ? PlaceKind::kNeighbourhood : PlaceKind::kLocality;
  return true;
}

std::size_t aligned(std::size_t offset) {
  return (offset + 7) / 8 * 8;
}

template <class T>
void put(std::string& out, std::size_t offset, const T* data, std::size_t count) {
  if (count > 0) std::memcpy(out.data() + offset, data, count * sizeof(T));
}

}  // namespace

std::string build_place_file(std::string_view text) {
  StringTable strings;
  std::vector<PlaceRecord> records;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    try {
      PlaceRecord record;
      if (parse_place(line, strings, record)) records.push_back(record);
    } catch (const LineError& error) {
      throw std::runtime_error("line " + std::to_string(line_number) + ": " + error.what());
    }
  }
  if (records.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw std::runtime_error("too many places");
  }

  std::sort(records.begin(), records.end(), [](const PlaceRecord& a, const PlaceRecord& b) {
    const auto cell_a = cell_of(a);
    const auto cell_b = cell_of(b);
    return cell_a != cell_b ? cell_a < cell_b : a.geonames_id < b.geonames_id;
  });
  std::vector<std::uint32_t> cells(std::size_t{kCellCount} + 1, 0);
  for (const auto& record : records) ++cells[cell_of(record) + 1];
  for (std::size_t c = 1; c < cells.size(); ++c) cells[c] += cells[c - 1];

  FileHeader header{};
  header.magic = kMagic;
  header.version = kFormatVersion;
  header.byte_order = kByteOrderMark;
  header.record_size = sizeof(PlaceRecord);
  header.record_count = static_cast<std::uint32_t>(records.size());
  header.cell_units = kCellUnits;
  header.cell_rows = kCellRows;
  header.cell_cols = kCellCols;
  header.cells_offset = aligned(sizeof header);
  header.records_offset = aligned(header.cells_offset + cells.size() * sizeof(std::uint32_t));
  header.strings_offset = aligned(header.records_offset + records.size() * sizeof(PlaceRecord));
  header.strings_size = strings.bytes().size();
  header.file_size = header.strings_offset + header.strings_size;

  std::string out(header.file_size, '\0');
  put(out, 0, &header, 1);
  put(out, header.cells_offset, cells.data(), cells.size());
  put(out, header.records_offset, records.data(), records.size());
  put(out, header.strings_offset, strings.bytes().data(), strings.bytes().size());
  return out;
}

}  // namespace herd::places::offline
