#include "places/offline/place_index.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace herd::places::offline {

namespace {

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error("places data " + file.string() + ": " + why +
                           " (rebuild it with herd-places-build)");
}

[[noreturn]] void refuse_errno(const std::filesystem::path& file, const char* what) {
  const std::string why = std::system_category().message(errno);
  throw std::runtime_error("places data " + file.string() + ": " + what + ": " + why);
}

bool section_fits(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
  return offset % 8 == 0 && offset <= file_size && size <= file_size - offset;
}

// Checks what the header promises against the file's real size, before anything is read.
void check_header(const FileHeader& header, std::uint64_t file_size,
                  const std::filesystem::path& file) {
  if (header.magic != kMagic) refuse(file, "not a herd places file (bad magic)");
  if (header.byte_order != kByteOrderMark) refuse(file, "written with another byte order");
  if (header.version != kFormatVersion) {
    refuse(file, "format version " + std::to_string(header.version) + ", expected " +
                     std::to_string(kFormatVersion));
  }
  if (header.record_size != sizeof(PlaceRecord) || header.cell_units != kCellUnits ||
      header.cell_rows != kCellRows || header.cell_cols != kCellCols) {
    refuse(file, "record or grid layout differs from this build's");
  }
  if (header.file_size != file_size) {
    refuse(file, "truncated or extended: " + std::to_string(file_size) + " bytes, header says " +
                     std::to_string(header.file_size));
  }
  const std::uint64_t cells_size = (std::uint64_t{kCellCount} + 1) * sizeof(std::uint32_t);
  const std::uint64_t records_size = std::uint64_t{header.record_count} * sizeof(PlaceRecord);
  if (!section_fits(header.cells_offset, cells_size, file_size) ||
      !section_fits(header.records_offset, records_size, file_size) ||
      !section_fits(header.strings_offset, header.strings_size, file_size)) {
    refuse(file, "a section lies outside the file");
  }
}

void check_contents(std::span<const std::uint32_t> cells, std::span<const PlaceRecord> records,
                    std::uint64_t strings_size, const std::filesystem::path& file) {
  if (cells.front() != 0 || cells.back() != records.size()) refuse(file, "bad cell table");
  for (std::uint32_t c = 0; c < kCellCount; ++c) {
    if (cells[c] > cells[c + 1]) refuse(file, "bad cell table");
    for (std::uint32_t i = cells[c]; i < cells[c + 1]; ++i) {
      const PlaceRecord& record = records[i];
      if (record.latitude < -900'000'000 || record.latitude > 900'000'000 ||
          record.longitude < -1'800'000'000 || record.longitude > 1'800'000'000 ||
          cell_of(record) != c) {
        refuse(file, "record " + std::to_string(i) + " is out of place");
      }
      if (std::uint64_t{record.name_offset} + record.name_size > strings_size ||
          std::uint64_t{record.vicinity_offset} + record.vicinity_size > strings_size ||
          record.kind > PlaceKind::kNeighbourhood) {
        refuse(file, "record " + std::to_string(i) + " is corrupt");
      }
    }
  }
}

}  // namespace

PlaceIndex::PlaceIndex(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) refuse_errno(file, "cannot open");
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    refuse_errno(file, "cannot stat");
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (!S_ISREG(status.st_mode) || size < sizeof(FileHeader)) {
    ::close(fd);
    refuse(file, "too short to be a places file");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int saved = errno;
  ::close(fd);  // the mapping keeps the file
  if (mapping == MAP_FAILED) {
    errno = saved;
    refuse_errno(file, "cannot map");
  }
  mapping_ = mapping;
  mapping_size_ = size;

  try {
    const auto* base = static_cast<const std::byte*>(mapping);
    FileHeader header;
    std::memcpy(&header, base, sizeof header);
    check_header(header, size, file);
    cells_ = {reinterpret_cast<const std::uint32_t*>(base + header.cells_offset),
              std::size_t{kCellCount} + 1};
    records_ = {reinterpret_cast<const PlaceRecord*>(base + header.records_offset),
                header.record_count};
    strings_ = {reinterpret_cast<const char*>(base + header.strings_offset), header.strings_size};
    check_contents(cells_, records_, header.strings_size, file);
  } catch (...) {
    ::munmap(mapping_, mapping_size_);
    throw;
  }
}

PlaceIndex::~PlaceIndex() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

PlaceIndex::PlaceIndex(PlaceIndex&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)),
      cells_(std::exchange(other.cells_, {})),
      records_(std::exchange(other.records_, {})),
      strings_(std::exchange(other.strings_, {})) {}

PlaceIndex& PlaceIndex::operator=(PlaceIndex&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_size_ = std::exchange(other.mapping_size_, 0);
    cells_ = std::exchange(other.cells_, {});
    records_ = std::exchange(other.records_, {});
    strings_ = std::exchange(other.strings_, {});
  }
  return *this;
}

std::span<const PlaceRecord> PlaceIndex::cell(std::uint32_t row, std::uint32_t col) const {
  const std::uint32_t c = row * kCellCols + col;
  return records_.subspan(cells_[c], cells_[c + 1] - cells_[c]);
}

}  // namespace herd::places::offline
