// The store's records in LSN order, which catch-up and snapshots read them in.
//
// Slots of (LSN, item) in LSN order, held in chunks of at most kChunk slots, with a
// directory of each chunk's first LSN. A record replaced or forgotten leaves its slot
// empty rather than erased. A chunk more than half empty is squeezed, and merged into a
// neighbour when the two fit in one chunk, so the chunks hold about as many slots as there
// are records, and no change moves more than a chunk's slots and the directory.
//
// In the steady state every IAMAT replaces a record: here that costs a search of the
// directory and of one chunk, and an append. (One sorted array of a million records held
// the store's lock for several milliseconds to squeeze out its empty slots, and as long
// again to grow; a tree costs an allocation, a free and a rebalance per change.)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace herd::store {

template <typename Item, std::size_t kChunk = 1024>
class LsnIndex {
 public:
  // Adds `item` under `lsn`. An LSN lower than the last one added puts the index out of
  // order until order() is called.
  void add(std::uint64_t lsn, const Item* item) {
    if (!chunks_.empty() && lsn < chunks_.back().slots.back().lsn) ordered_ = false;
    if (chunks_.empty() || chunks_.back().slots.size() == kChunk) start_chunk(lsn);
    chunks_.back().slots.push_back(Slot{lsn, item});
    ++size_;
  }

  // Sorts what add() put out of order; cheap when nothing is. remove() and visit_after()
  // need the index in order.
  void order() {
    if (ordered_) return;
    std::vector<Slot> all;
    all.reserve(size_);
    for (const auto& chunk : chunks_) {
      std::copy_if(chunk.slots.begin(), chunk.slots.end(), std::back_inserter(all),
                   [](const Slot& slot) { return slot.item != nullptr; });
    }
    std::sort(all.begin(), all.end(), [](const Slot& a, const Slot& b) { return a.lsn < b.lsn; });
    chunks_.clear();
    firsts_.clear();
    size_ = 0;
    ordered_ = true;
    for (const auto& slot : all) add(slot.lsn, slot.item);
  }

  // Removes `item`, added under `lsn`, if it is there. A damaged data file may number two
  // records alike, so the slot is the one holding `item`, not merely the first of `lsn`;
  // the two may lie in two chunks.
  void remove(std::uint64_t lsn, const Item* item) {
    for (std::size_t c = chunk_before(lsn); c < chunks_.size(); ++c) {
      auto& slots = chunks_[c].slots;
      auto it = std::lower_bound(slots.begin(), slots.end(), lsn,
                                 [](const Slot& slot, std::uint64_t l) { return slot.lsn < l; });
      for (; it != slots.end() && it->lsn == lsn; ++it) {
        if (it->item == item) {
          it->item = nullptr;
          --size_;
          if (++chunks_[c].empty * 2 > slots.size()) squeeze(c);
          return;
        }
      }
      if (it != slots.end()) return;  // past `lsn`
    }
  }

  // Calls `visit(lsn, item)` for each item with an LSN above `after`, in LSN order, until
  // it returns false.
  template <typename Visit>
  void visit_after(std::uint64_t after, Visit&& visit) const {
    for (std::size_t c = chunk_holding(after); c < chunks_.size(); ++c) {
      const auto& slots = chunks_[c].slots;
      auto it = std::upper_bound(slots.begin(), slots.end(), after,
                                 [](std::uint64_t l, const Slot& slot) { return l < slot.lsn; });
      for (; it != slots.end(); ++it) {
        if (it->item != nullptr && !visit(it->lsn, *it->item)) return;
      }
    }
  }

  std::size_t size() const { return size_; }
  // What the index holds, empty slots included: at most twice size(), as a chunk is
  // squeezed once more than half of it is empty.
  std::size_t slots() const {
    std::size_t held = 0;
    for (const auto& chunk : chunks_) held += chunk.slots.size();
    return held;
  }

 private:
  struct Slot {
    std::uint64_t lsn;
    const Item* item;  // null once removed
  };
  struct Chunk {
    std::vector<Slot> slots;  // in LSN order; never empty
    std::size_t empty = 0;    // slots whose item was removed
  };

  // The first chunk that may hold a slot of `lsn`: the last whose first LSN is below it
  // (an LSN shared by two slots may end one chunk and start the next).
  std::size_t chunk_before(std::uint64_t lsn) const {
    return before(std::lower_bound(firsts_.begin(), firsts_.end(), lsn));
  }
  // The first chunk that may hold a slot above `lsn`: the last whose first LSN is not.
  std::size_t chunk_holding(std::uint64_t lsn) const {
    return before(std::upper_bound(firsts_.begin(), firsts_.end(), lsn));
  }
  std::size_t before(std::vector<std::uint64_t>::const_iterator first_past) const {
    return first_past == firsts_.begin()
               ? 0
               : static_cast<std::size_t>(first_past - firsts_.begin()) - 1;
  }

  void start_chunk(std::uint64_t first) {
    chunks_.emplace_back();
    firsts_.push_back(first);
  }

  void drop_chunk(std::size_t c) {
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
    firsts_.erase(firsts_.begin() + static_cast<std::ptrdiff_t>(c));
  }

  // Moves chunk c + 1's slots to the end of chunk c, if they fit.
  bool merge_next(std::size_t c) {
    if (c + 1 >= chunks_.size()) return false;
    auto& chunk = chunks_[c];
    auto& next = chunks_[c + 1];
    if (chunk.slots.size() + next.slots.size() > kChunk) return false;
    chunk.slots.insert(chunk.slots.end(), next.slots.begin(), next.slots.end());
    chunk.empty += next.empty;
    drop_chunk(c + 1);
    return true;
  }

  void squeeze(std::size_t c) {
    auto& chunk = chunks_[c];
    std::erase_if(chunk.slots, [](const Slot& slot) { return slot.item == nullptr; });
    chunk.empty = 0;
    if (chunk.slots.empty()) {
      drop_chunk(c);
      return;
    }
    // A chunk that took many slots and kept few gives the rest of its memory back.
    if (chunk.slots.capacity() > 2 * chunk.slots.size()) chunk.slots.shrink_to_fit();
    if (!merge_next(c) && c > 0) merge_next(c - 1);
  }

  std::vector<Chunk> chunks_;
  // The LSN each chunk started with: no higher than any it holds, and no lower than any
  // of the chunks before it, so a search of these finds the chunks an LSN may be in.
  std::vector<std::uint64_t> firsts_;
  std::size_t size_ = 0;  // items not removed
  bool ordered_ = true;
};

}  // namespace herd::store
