#include "store/record_store.hpp"

namespace herd::store {

RecordStore::Outcome RecordStore::offer(const protocol::Record& record) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(std::string_view(record.client_id));
  if (it == records_.end()) {
    if (records_.size() >= capacity_) return Outcome::kFull;
    records_.emplace(record.client_id, record);
    return Outcome::kStored;
  }
  if (!protocol::is_newer(record, it->second)) return Outcome::kNotNewer;
  it->second = record;
  return Outcome::kStored;
}

std::optional<protocol::Record> RecordStore::find(std::string_view client_id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(client_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::size_t RecordStore::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

}  // namespace herd::store
