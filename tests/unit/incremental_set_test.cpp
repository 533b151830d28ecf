#include "store/incremental_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

namespace herd::store {
namespace {

// An element that can only be moved, as the record store's slots are, with a value that
// a lost or doubled move would show.
struct Item {
  std::uint64_t key;
  std::unique_ptr<std::uint64_t> value;
};

Item item(std::uint64_t key) {
  return Item{key, std::make_unique<std::uint64_t>(key * 7)};
}

struct ByKey {
  using is_transparent = void;
  static std::uint64_t key_of(std::uint64_t key) { return key; }
  static std::uint64_t key_of(const Item& item) { return item.key; }
  std::size_t operator()(const auto& a) const { return std::hash<std::uint64_t>{}(key_of(a)); }
  bool operator()(const auto& a, const auto& b) const { return key_of(a) == key_of(b); }
};

using Set = IncrementalSet<Item, ByKey, ByKey>;

// Whether `set` holds `key` with the value it was inserted with; a const lookup, so that
// checking moves nothing.
bool holds(const Set& set, std::uint64_t key) {
  const Item* found = set.find(key);
  return found != nullptr && found->value != nullptr && *found->value == key * 7;
}

// Inserts keys from `next` on until the set has started to grow; returns the key after.
std::uint64_t insert_until_growing(Set& set, std::uint64_t next) {
  while (!set.growing()) set.insert(item(next++));
  return next;
}

TEST(IncrementalSet, EveryElementIsFoundWhileTheSetGrows) {
  Set set;
  constexpr std::uint64_t kCount = 30'000;
  std::uint64_t inserts_while_growing = 0;
  for (std::uint64_t key = 0; key < kCount; ++key) {
    ASSERT_EQ(set.find(key), nullptr) << key;
    set.insert(item(key));
    ASSERT_EQ(set.size(), key + 1);
    if (set.growing()) ++inserts_while_growing;
    if (key % 1'009 == 0 || set.growing()) {
      for (std::uint64_t held = 0; held <= key; held += (set.growing() ? 13 : 1)) {
        ASSERT_TRUE(holds(set, held)) << held << " of " << key + 1;
      }
    }
  }
  EXPECT_GT(inserts_while_growing, 1'000U);  // the set grew a piece at a time, several times
  EXPECT_EQ(set.find(kCount), nullptr);
}

TEST(IncrementalSet, LookupsAloneFinishTheMove) {
  Set set;
  const std::uint64_t count = insert_until_growing(set, 0);
  // Each lookup moves kMovesPerCall elements, and the old table holds fewer than `count`.
  std::uint64_t lookups = 0;
  while (set.growing() && lookups <= count) {
    ASSERT_TRUE(set.find(lookups % count) != nullptr);
    ++lookups;
  }
  EXPECT_FALSE(set.growing());
  EXPECT_LE(lookups, count / Set::kMovesPerCall + 1);
  for (std::uint64_t key = 0; key < count; ++key) ASSERT_TRUE(holds(set, key)) << key;
}

// Erasing every element, in random orders, while the set grows: some erase takes the
// element that the set was to move next.
TEST(IncrementalSet, ErasedElementsAreGoneFromEitherTable) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Set set;
    const std::uint64_t count = insert_until_growing(set, 0);
    std::vector<std::uint64_t> keys(count);
    std::iota(keys.begin(), keys.end(), 0);
    std::shuffle(keys.begin(), keys.end(), std::mt19937_64(seed));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      set.erase(keys[i]);
      ASSERT_EQ(set.size(), count - i - 1) << "seed " << seed;
      ASSERT_EQ(std::as_const(set).find(keys[i]), nullptr) << "seed " << seed;
      if (i % 97 == 0) {
        for (std::size_t j = i + 1; j < keys.size(); ++j) {
          ASSERT_TRUE(holds(set, keys[j])) << "seed " << seed;
        }
      }
    }
    EXPECT_FALSE(set.growing());
    set.erase(count);  // not there: nothing happens
    EXPECT_EQ(set.size(), 0U);
  }
}

TEST(IncrementalSet, ReservedRoomTakesItsElementsWithoutGrowing) {
  Set set;
  set.reserve(5'000);
  for (std::uint64_t key = 0; key < 5'000; ++key) {
    set.insert(item(key));
    ASSERT_FALSE(set.growing()) << key;
  }
  const std::uint64_t next = insert_until_growing(set, 5'000);
  set.reserve(next + 1);  // while growing: the old table's elements move first
  EXPECT_FALSE(set.growing());
  for (std::uint64_t key = 0; key < next; ++key) ASSERT_TRUE(holds(set, key)) << key;
}

}  // namespace
}  // namespace herd::store
