// A hash set that grows a piece at a time, so that no call waits for the whole set to be
// rehashed.
//
// The record store's table by client has a slot for every client, and growing it rehashed
// every slot at once, with the store's lock held and every request of every event loop
// waiting: about 20 ms as it grew past 860,000 clients. Here a full table is set aside and
// one twice its size started; each later call that is not const moves a few elements from
// the old table to the new, as Redis's dictionaries do, and a lookup searches both until
// the old one is empty. Every element still moves once, so the work is a rehash's, spread
// over the calls after it.
//
// Elements are found by any key that Hash and Eq accept (transparent hashing). A pointer
// to an element is valid until the next call that is not const.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/unordered/unordered_flat_set.hpp>

namespace herd::store {

template <typename T, typename Hash, typename Eq>
class IncrementalSet {
 public:
  // Elements moved by each call that is not const. Two are enough that the old table is
  // empty before the new one is full, whatever the calls: the new one takes twice the old
  // one's elements, the old one's all move after half as many inserts, and only an insert
  // adds an element.
  static constexpr std::size_t kMovesPerCall = 2;

  template <typename Key>
  const T* find(const Key& key) const {
    if (auto it = table_.find(key); it != table_.end()) return &*it;
    if (old_.empty()) return nullptr;
    if (auto it = old_.find(key); it != old_.end()) return &*it;
    return nullptr;
  }

  // The same, moving some elements first: a set that no longer grows is still emptied of
  // its old table by lookups alone, so that lookups stop searching two tables.
  template <typename Key>
  const T* find(const Key& key) {
    move_some();
    return std::as_const(*this).find(key);
  }

  // Adds `value`, whose key must not be in the set yet (find() first).
  const T& insert(T&& value) {
    move_some();
    if (table_.size() >= table_.max_load()) grow();
    return *table_.insert(std::move(value)).first;
  }

  // Removes the element that `key` finds, if there is one.
  template <typename Key>
  void erase(const Key& key) {
    move_some();
    if (auto it = table_.find(key); it != table_.end()) {
      table_.erase(it);
    } else if (auto old = old_.find(key); old != old_.end()) {
      if (old == next_) ++next_;
      old_.erase(old);
      retire_if_empty();
    }
  }

  // Makes room for `count` elements, so that no insert up to that many grows the set.
  void reserve(std::size_t count) {
    move_all();
    table_.reserve(count);
  }

  std::size_t size() const { return table_.size() + old_.size(); }
  // Whether elements are still to be moved from an old table; read by tests.
  bool growing() const { return !old_.empty(); }

 private:
  using Table = boost::unordered_flat_set<T, Hash, Eq>;

  void grow() {
    move_all();  // never needed with kMovesPerCall >= 2, but keeps the set whole if it were
    old_.swap(table_);
    table_.reserve(2 * old_.size());
    next_ = old_.begin();
  }

  void move_some() {
    for (std::size_t i = 0; i < kMovesPerCall && !old_.empty(); ++i) move_one();
  }

  void move_all() {
    while (!old_.empty()) move_one();
  }

  void move_one() {
    const auto it = next_++;
    // The set hands out its elements as const so that no one changes a key under it; this
    // one leaves the old table right after, and erasing reads nothing of it.
    table_.insert(std::move(const_cast<T&>(*it)));
    old_.erase(it);
    retire_if_empty();
  }

  // An emptied table still holds its array. Freeing the array of a million clients' table
  // takes a millisecond or two (measured while designing), once a doubling.
  void retire_if_empty() {
    if (old_.empty()) old_ = Table();
  }

  Table table_;
  Table old_;                        // the table being emptied into table_, while growing
  typename Table::iterator next_{};  // the next element of old_ to move
};

}  // namespace herd::store
