// A record as the store holds it: its four text fields end to end in one string, so that
// a client costs one allocation for its text rather than one a field (and a string's
// header each). A server with a million clients holds a million of these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/record.hpp"

namespace herd::store {

class PackedRecord {
 public:
  explicit PackedRecord(const protocol::Record& record) { assign(record); }

  // Reuses this one's memory when the new fields fit in it, as a client's next record
  // usually does.
  void assign(const protocol::Record& record);

  std::string_view client_id() const { return text().substr(0, client_id_size_); }
  std::string_view at_line() const { return text().substr(at_line_offset()); }
  protocol::Timestamp client_time() const { return client_time_; }
  // What the newer-record rule reads.
  protocol::Version version() const { return {client_time_, at_line()}; }

  protocol::Record unpack() const;

 private:
  std::string_view text() const { return fields_; }
  std::size_t at_line_offset() const {
    return std::size_t{client_id_size_} + latitude_size_ + longitude_size_;
  }

  std::string fields_;  // client id, latitude, longitude and AT line, end to end
  protocol::Timestamp client_time_;
  std::uint32_t client_id_size_ = 0;
  std::uint32_t latitude_size_ = 0;
  std::uint32_t longitude_size_ = 0;
};

}  // namespace herd::store
