#include "store/record_store.hpp"

#include <algorithm>

#include "protocol/request.hpp"

namespace herd::store {

RecordStore::RecordStore(Options options, Journal& journal, std::string store_id,
                         std::uint64_t boot)
    : options_(options),
      journal_(journal),
      store_id_(std::move(store_id)),
      seq_(boot << kBootShift) {}

void RecordStore::index(Entry& entry) {
  by_lsn_.add(entry.lsn, &entry);
  if (options_.ttl.count() > 0) entry.by_age = by_age_.emplace(entry.record.client_time(), &entry);
}

void RecordStore::unindex(const Entry& entry) {
  by_lsn_.remove(entry.lsn, &entry);
  if (options_.ttl.count() > 0) by_age_.erase(entry.by_age);
}

std::uint32_t RecordStore::source_index(std::string_view source) {
  if (source.empty()) return 0;
  auto it = source_indexes_.find(source);
  if (it != source_indexes_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(sources_.size());
  sources_.emplace_back(source);
  source_indexes_.emplace(std::string(source), index);
  return index;
}

RecordStore::Restored RecordStore::restore(const std::vector<StoredRecord>& records,
                                           const std::vector<StoredCursor>& cursors,
                                           protocol::Timestamp now) {
  std::lock_guard lock(mutex_);
  Restored restored;
  records_.reserve(records.size());
  for (const auto& row : records) {
    const Key key = key_of(row.client);
    if (records_.find(key) != nullptr) {
      // A second row for a client, which the fold never gives, is not erased from the file:
      // the erase would drop the record held with it.
      ++restored.unreadable;
      continue;
    }
    auto request = protocol::parse_request(row.at_line);
    auto* at = std::get_if<protocol::At>(&request);
    const bool readable = at != nullptr && at->record.client_id == row.client &&
                          at->record.at_line == row.at_line && row.lsn < seq_;
    const bool aged_out = readable && protocol::has_aged_out(at->record, now, options_.ttl);
    if (!readable || aged_out) {
      ++(readable ? restored.aged_out : restored.unreadable);
      journal_.append(Change::erase(++seq_, row.client));
      continue;
    }
    auto entry = std::make_unique<Entry>(at->record);
    entry->lsn = row.lsn;
    entry->source = source_index(row.source);
    index(*entry);
    records_.insert(Slot{key.hash, std::move(entry)});
    ++restored.records;
  }
  by_lsn_.order();
  size_.store(records_.size(), std::memory_order_relaxed);
  for (const auto& cursor : cursors) {
    positions_[cursor.neighbour] = protocol::StorePosition{cursor.store_id, cursor.lsn};
  }
  return restored;
}

RecordStore::Outcome RecordStore::offer(const protocol::Record& record, std::string_view source,
                                        protocol::Timestamp now, std::uint64_t* holding) {
  if (protocol::has_aged_out(record, now, options_.ttl)) return Outcome::kAgedOut;
  std::lock_guard lock(mutex_);
  const Key key = key_of(record.client_id);
  const Slot* slot = records_.find(key);
  Entry* entry = nullptr;
  if (slot == nullptr) {
    if (records_.size() >= options_.capacity) return Outcome::kFull;
    entry = records_.insert(Slot{key.hash, std::make_unique<Entry>(record)}).entry.get();
    size_.store(records_.size(), std::memory_order_relaxed);
  } else {
    entry = slot->entry.get();
    if (!protocol::is_newer(protocol::version_of(record), entry->record.version())) {
      if (holding != nullptr) *holding = entry->lsn;
      return Outcome::kNotNewer;
    }
    unindex(*entry);
    // Displacements whose new version is committed are settled.
    const std::uint64_t committed = journal_.committed();
    while (!displaced_.empty() && displaced_.front().lsn <= committed) displaced_.pop_front();
    displaced_.push_back(Displacement{seq_ + 1, entry->lsn});
    entry->record.assign(record);
  }
  entry->lsn = ++seq_;
  entry->source = source_index(source);
  index(*entry);
  journal_.append(Change::put(seq_, record.client_id, record.at_line, source));
  if (holding != nullptr) *holding = seq_;
  return Outcome::kStored;
}

std::optional<protocol::Record> RecordStore::find(std::string_view client_id,
                                                  protocol::Timestamp now) const {
  std::lock_guard lock(mutex_);
  const Slot* slot = records_.find(key_of(client_id));
  if (slot == nullptr ||
      protocol::has_aged_out(slot->entry->record.client_time(), now, options_.ttl)) {
    return std::nullopt;
  }
  return slot->entry->record.unpack();
}

std::uint64_t RecordStore::last_seq() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

RecordStore::Batch RecordStore::read_since(std::uint64_t after, std::uint64_t up_to,
                                           std::string_view neighbour, std::uint64_t echo_from,
                                           std::size_t limit) const {
  Batch batch;
  batch.through = up_to;
  std::lock_guard lock(mutex_);
  std::uint64_t considered = after;
  by_lsn_.visit_after(after, [&](std::uint64_t lsn, const Entry& entry) {
    if (lsn > up_to) return false;
    if (batch.at_lines.size() == limit) {
      batch.through = considered;
      return false;
    }
    considered = lsn;
    if (lsn <= echo_from || sources_[entry.source] != neighbour) {
      batch.at_lines.emplace_back(entry.record.at_line());
    }
    return true;
  });
  batch.mark = batch.through;
  const auto after_up_to =
      std::upper_bound(displaced_.begin(), displaced_.end(), up_to,
                       [](std::uint64_t lsn, const Displacement& d) { return lsn < d.lsn; });
  for (auto it = after_up_to; it != displaced_.end(); ++it) {
    if (it->displaced <= batch.mark) batch.mark = it->displaced - 1;
  }
  return batch;
}

std::vector<StoredRecord> RecordStore::snapshot(std::uint64_t after, std::uint64_t up_to,
                                                std::size_t limit) const {
  std::vector<StoredRecord> records;
  std::lock_guard lock(mutex_);
  by_lsn_.visit_after(after, [&](std::uint64_t lsn, const Entry& entry) {
    if (lsn > up_to || records.size() == limit) return false;
    records.push_back(StoredRecord{std::string(entry.record.client_id()),
                                   std::string(entry.record.at_line()), lsn,
                                   sources_[entry.source]});
    return true;
  });
  return records;
}

protocol::StorePosition RecordStore::position_of(std::string_view neighbour) const {
  std::lock_guard lock(mutex_);
  auto it = positions_.find(neighbour);
  return it == positions_.end() ? protocol::StorePosition{} : it->second;
}

void RecordStore::advance(std::string_view neighbour, const protocol::StorePosition& position) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = positions_.try_emplace(std::string(neighbour), position);
  if (!inserted) {
    auto& held = it->second;
    if (held.store_id == position.store_id && held.lsn >= position.lsn) return;
    held = position;
  }
  journal_.append(Change::cursor(++seq_, neighbour, position.store_id, position.lsn));
}

std::size_t RecordStore::forget_aged_out(protocol::Timestamp now, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::size_t forgotten = 0;
  while (forgotten < limit && !by_age_.empty()) {
    const Entry& oldest = *by_age_.begin()->second;
    if (!protocol::has_aged_out(oldest.record.client_time(), now, options_.ttl)) break;
    // The journal copies the client id, which goes with the entry.
    journal_.append(Change::erase(++seq_, oldest.record.client_id()));
    unindex(oldest);
    records_.erase(key_of(oldest.record.client_id()));  // frees `oldest`
    size_.store(records_.size(), std::memory_order_relaxed);
    ++forgotten;
  }
  return forgotten;
}

}  // namespace herd::store
