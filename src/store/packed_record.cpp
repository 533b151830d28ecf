#include "store/packed_record.hpp"

namespace herd::store {

void PackedRecord::assign(const protocol::Record& record) {
  const std::size_t size = record.client_id.size() + record.location.latitude.size() +
                           record.location.longitude.size() + record.at_line.size();
  // A string that grows by reserve() doubles its capacity; a fresh one is given the size
  // asked for, so that a million records do not each hold up to twice what they use.
  if (size > fields_.capacity()) fields_ = std::string();
  fields_.clear();
  fields_.reserve(size);
  fields_ += record.client_id;
  fields_ += record.location.latitude;
  fields_ += record.location.longitude;
  fields_ += record.at_line;
  client_time_ = record.client_time;
  client_id_size_ = static_cast<std::uint32_t>(record.client_id.size());
  latitude_size_ = static_cast<std::uint32_t>(record.location.latitude.size());
  longitude_size_ = static_cast<std::uint32_t>(record.location.longitude.size());
}

protocol::Record PackedRecord::unpack() const {
  const std::string_view latitude = text().substr(client_id_size_, latitude_size_);
  const std::string_view longitude =
      text().substr(std::size_t{client_id_size_} + latitude_size_, longitude_size_);
  return protocol::Record{std::string(client_id()),
                          protocol::Location{std::string(latitude), std::string(longitude)},
                          client_time_, std::string(at_line())};
}

}  // namespace herd::store
