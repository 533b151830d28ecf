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
  by_lsn_.emplace_hint(by_lsn_.end(), entry.lsn, &entry);
  if (options_.ttl.count() > 0) entry.by_age = by_age_.emplace(entry.record.client_time, &entry);
}

void RecordStore::unindex(const Entry& entry) {
  by_lsn_.erase(entry.lsn);
  if (options_.ttl.count() > 0) by_age_.erase(entry.by_age);
}

RecordStore::Restored RecordStore::restore(std::vector<StoredRecord> records,
                                           const std::vector<StoredCursor>& cursors,
                                           protocol::Timestamp now) {
  std::lock_guard lock(mutex_);
  Restored restored;
  records_.reserve(records.size());
  for (auto& row : records) {
    auto [it, inserted] = records_.try_emplace(std::move(row.client));
    if (!inserted) {
      // A second row for a client, which the fold never gives, is not erased from the file:
      // the erase would drop the record held with it.
      ++restored.unreadable;
      continue;
    }
    const std::string& client = it->first;
    auto request = protocol::parse_request(row.at_line);
    auto* at = std::get_if<protocol::At>(&request);
    const bool readable = at != nullptr && at->record.client_id == client &&
                          at->record.at_line == row.at_line && row.lsn < seq_;
    const bool aged_out = readable && protocol::has_aged_out(at->record, now, options_.ttl);
    if (!readable || aged_out) {
      ++(readable ? restored.aged_out : restored.unreadable);
      journal_.append(Change::erase(++seq_, client));
      records_.erase(it);
      continue;
    }
    it->second = Entry{std::move(at->record), row.lsn, std::move(row.source), {}};
    index(it->second);
    ++restored.records;
  }
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
  auto it = records_.find(std::string_view(record.client_id));
  if (it == records_.end()) {
    if (records_.size() >= options_.capacity) return Outcome::kFull;
    it = records_.try_emplace(record.client_id).first;
    size_.store(records_.size(), std::memory_order_relaxed);
  } else {
    if (!protocol::is_newer(record, it->second.record)) {
      if (holding != nullptr) *holding = it->second.lsn;
      return Outcome::kNotNewer;
    }
    unindex(it->second);
    // Displacements whose new version is committed are settled.
    const std::uint64_t committed = journal_.committed();
    while (!displaced_.empty() && displaced_.front().lsn <= committed) displaced_.pop_front();
    displaced_.push_back(Displacement{seq_ + 1, it->second.lsn});
  }
  Entry& entry = it->second;
  entry.record = record;
  entry.lsn = ++seq_;
  entry.source = source;
  index(entry);
  journal_.append(Change::put(seq_, record.client_id, record.at_line, source));
  if (holding != nullptr) *holding = seq_;
  return Outcome::kStored;
}

std::optional<protocol::Record> RecordStore::find(std::string_view client_id,
                                                  protocol::Timestamp now) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(client_id);
  if (it == records_.end() || protocol::has_aged_out(it->second.record, now, options_.ttl)) {
    return std::nullopt;
  }
  return it->second.record;
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
  for (auto it = by_lsn_.upper_bound(after); it != by_lsn_.end() && it->first <= up_to; ++it) {
    if (batch.at_lines.size() == limit) {
      batch.through = considered;
      break;
    }
    considered = it->first;
    const Entry& entry = *it->second;
    if (entry.lsn > echo_from && entry.source == neighbour) continue;
    batch.at_lines.push_back(entry.record.at_line);
  }
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
  for (auto it = by_lsn_.upper_bound(after);
       it != by_lsn_.end() && it->first <= up_to && records.size() < limit; ++it) {
    const Entry& entry = *it->second;
    records.push_back(
        StoredRecord{entry.record.client_id, entry.record.at_line, entry.lsn, entry.source});
  }
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
    if (!protocol::has_aged_out(oldest.record, now, options_.ttl)) break;
    const std::string client = oldest.record.client_id;
    unindex(oldest);
    records_.erase(client);
    size_.store(records_.size(), std::memory_order_relaxed);
    journal_.append(Change::erase(++seq_, client));
    ++forgotten;
  }
  return forgotten;
}

}  // namespace herd::store
