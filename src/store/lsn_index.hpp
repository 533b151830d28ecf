// The store's records in LSN order, which catch-up and snapshots read them in.
//
// A sorted array of (LSN, item) slots. A record replaced or forgotten leaves its slot
// empty rather than erased, and the empty slots are squeezed out once they are as many
// as the full ones, so that an array over N records holds at most 2N slots plus a few.
// In the steady state every IAMAT replaces a record: here that costs a binary search
// and an append, where a tree cost a node's allocation, a free and a rebalance.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herd::store {

template <typename Item>
class LsnIndex {
 public:
  // Adds `item` under `lsn`. An LSN lower than the last one added puts the index out of
  // order until order() is called.
  void add(std::uint64_t lsn, const Item* item) {
    if (!slots_.empty() && lsn < slots_.back().lsn) ordered_ = false;
    slots_.push_back(Slot{lsn, item});
  }

  // Sorts what add() put out of order; cheap when nothing is. remove() and visit_after()
  // need the index in order.
  void order() {
    if (ordered_) return;
    std::sort(slots_.begin(), slots_.end(),
              [](const Slot& a, const Slot& b) { return a.lsn < b.lsn; });
    ordered_ = true;
  }

  // Removes `item`, added under `lsn`, if it is there. A damaged data file may number two
  // records alike, so the slot is the one holding `item`, not merely the first of `lsn`.
  void remove(std::uint64_t lsn, const Item* item) {
    auto it = std::lower_bound(slots_.begin(), slots_.end(), lsn,
                               [](const Slot& slot, std::uint64_t l) { return slot.lsn < l; });
    while (it != slots_.end() && it->lsn == lsn && it->item != item) ++it;
    if (it == slots_.end() || it->lsn != lsn) return;
    it->item = nullptr;
    if (++empty_ > kMinSqueeze && empty_ * 2 > slots_.size()) squeeze();
  }

  // Calls `visit(lsn, item)` for each item with an LSN above `after`, in LSN order, until
  // it returns false.
  template <typename Visit>
  void visit_after(std::uint64_t after, Visit&& visit) const {
    auto it = std::upper_bound(slots_.begin(), slots_.end(), after,
                               [](std::uint64_t l, const Slot& slot) { return l < slot.lsn; });
    for (; it != slots_.end(); ++it) {
      if (it->item != nullptr && !visit(it->lsn, *it->item)) return;
    }
  }

  std::size_t size() const { return slots_.size() - empty_; }

 private:
  struct Slot {
    std::uint64_t lsn;
    const Item* item;  // null once removed
  };
  // Below this many empty slots a small index is not worth squeezing.
  static constexpr std::size_t kMinSqueeze = 64;

  void squeeze() {
    std::erase_if(slots_, [](const Slot& slot) { return slot.item == nullptr; });
    empty_ = 0;
  }

  std::vector<Slot> slots_;
  std::size_t empty_ = 0;
  bool ordered_ = true;
};

}  // namespace herd::store
