#include "store/lsn_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace herd::store {
namespace {

using Visited = std::vector<std::pair<std::uint64_t, int>>;

template <std::size_t kChunk>
Visited visit_after(const LsnIndex<int, kChunk>& index, std::uint64_t after) {
  Visited visited;
  index.visit_after(after, [&](std::uint64_t lsn, const int& item) {
    visited.emplace_back(lsn, item);
    return true;
  });
  return visited;
}

// Three items to index, and an index.
class LsnIndexTest : public ::testing::Test {
 protected:
  const int a = 1;
  const int b = 2;
  const int c = 3;
  LsnIndex<int> index;
};

TEST_F(LsnIndexTest, VisitsItemsAboveAnLsnInOrder) {
  EXPECT_TRUE(visit_after(index, 0).empty());
  index.add(10, &a);
  index.add(20, &b);
  index.add(30, &c);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {20, 2}, {30, 3}}));
  EXPECT_EQ(visit_after(index, 10), (Visited{{20, 2}, {30, 3}}));
  EXPECT_EQ(visit_after(index, 15), (Visited{{20, 2}, {30, 3}}));
  EXPECT_TRUE(visit_after(index, 30).empty());
}

TEST(LsnIndex, AVisitStopsWhenToldTo) {
  const int items[] = {1, 2, 3};
  LsnIndex<int> index;
  for (std::uint64_t i = 0; i < 3; ++i) index.add(i + 1, &items[i]);
  Visited visited;
  index.visit_after(0, [&](std::uint64_t lsn, const int& item) {
    visited.emplace_back(lsn, item);
    return item < 2;
  });
  EXPECT_EQ(visited, (Visited{{1, 1}, {2, 2}}));
}

TEST_F(LsnIndexTest, RemovedItemsAreSkipped) {
  index.add(10, &a);
  index.add(20, &b);
  index.add(30, &c);
  index.remove(20, &b);
  index.remove(25, &b);  // none there
  index.remove(20, &b);  // gone already
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {30, 3}}));
  EXPECT_EQ(visit_after(index, 10), (Visited{{30, 3}}));
  index.remove(30, &c);
  index.remove(10, &a);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(visit_after(index, 0).empty());
}

TEST(LsnIndex, KeepsItsOrderThroughSqueezes) {
  // Each item is moved to a new LSN over and over, as a client's record is by its updates,
  // which leaves far more empty slots than the index keeps before squeezing them out.
  constexpr int kItems = 50;
  std::vector<int> items(kItems);
  std::vector<std::uint64_t> lsn_of(kItems);
  LsnIndex<int> index;
  std::uint64_t lsn = 0;
  for (int i = 0; i < kItems; ++i) {
    items[i] = i;
    lsn_of[i] = ++lsn;
    index.add(lsn_of[i], &items[i]);
  }
  for (int round = 0; round < 40; ++round) {
    for (int i = round % 7; i < kItems; i += 3) {
      index.remove(lsn_of[i], &items[i]);
      lsn_of[i] = ++lsn;
      index.add(lsn_of[i], &items[i]);
    }
  }
  Visited expected;
  for (int i = 0; i < kItems; ++i) expected.emplace_back(lsn_of[i], i);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(index.size(), static_cast<std::size_t>(kItems));
  EXPECT_EQ(visit_after(index, 0), expected);
  EXPECT_EQ(visit_after(index, expected[kItems / 2].first),
            Visited(expected.begin() + kItems / 2 + 1, expected.end()));
}

TEST_F(LsnIndexTest, OrderSortsWhatWasAddedOutOfOrder) {
  index.add(30, &c);
  index.add(10, &a);
  index.add(20, &b);
  index.order();
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {20, 2}, {30, 3}}));
  index.remove(20, &b);
  EXPECT_EQ(visit_after(index, 10), (Visited{{30, 3}}));
}

TEST_F(LsnIndexTest, RemovesTheItemAskedForWhereTwoShareAnLsn) {
  // Only a damaged data file numbers two records alike; the other must stay indexed.
  index.add(10, &a);
  index.add(10, &b);
  index.add(20, &c);
  index.remove(10, &b);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {20, 3}}));
  index.remove(10, &c);  // not under 10
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {20, 3}}));
  index.remove(10, &a);
  EXPECT_EQ(visit_after(index, 0), (Visited{{20, 3}}));
}

TEST(LsnIndex, TwoSharingAnLsnMayLieInTwoChunks) {
  const int items[] = {1, 2, 3, 4};
  LsnIndex<int, 2> index;  // chunks [10 20] [20 30]
  index.add(10, &items[0]);
  index.add(20, &items[1]);
  index.add(20, &items[2]);
  index.add(30, &items[3]);
  index.remove(20, &items[2]);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {20, 2}, {30, 4}}));
  EXPECT_EQ(visit_after(index, 10), (Visited{{20, 2}, {30, 4}}));
  index.remove(20, &items[1]);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 1}, {30, 4}}));
  EXPECT_EQ(index.size(), 2u);
}

TEST(LsnIndex, ChunksSqueezedAndMergedKeepEveryItemInOrder) {
  // Small chunks, so that items moved to new LSNs over and over empty, squeeze and merge
  // many of them; after each round the index must agree with a plain ordered map, read
  // from every LSN.
  constexpr int kItems = 200;
  std::vector<int> items(kItems);
  std::vector<std::uint64_t> lsn_of(kItems, 0);  // 0: not in the index
  std::map<std::uint64_t, int> expected;
  LsnIndex<int, 4> index;
  std::mt19937 random(11);
  std::uint64_t lsn = 0;
  for (int round = 0; round < 30; ++round) {
    for (int change = 0; change < 100; ++change) {
      const int i = static_cast<int>(random() % kItems);
      items[i] = i;
      if (lsn_of[i] != 0) {
        index.remove(lsn_of[i], &items[i]);
        expected.erase(lsn_of[i]);
      }
      if (random() % 4 == 0) {  // forgotten, as an aged-out record is
        lsn_of[i] = 0;
        continue;
      }
      lsn_of[i] = ++lsn;
      index.add(lsn, &items[i]);
      expected.emplace(lsn, i);
      ASSERT_LE(index.slots(), 2 * index.size()) << "round " << round << ", change " << change;
    }
    ASSERT_EQ(index.size(), expected.size());
    for (std::uint64_t after = 0; after <= lsn; after += 7) {
      ASSERT_EQ(visit_after(index, after), Visited(expected.upper_bound(after), expected.end()))
          << "after " << after << ", round " << round;
    }
  }
}

TEST(LsnIndex, AMergedChunkCountsTheEmptySlotsItTookOver) {
  const int items[] = {1, 2, 3, 4, 5, 6};
  LsnIndex<int, 4> index;
  for (const int& item : items) index.add(item, &item);  // chunks [1 2 3 4] [5 6]
  index.remove(5, &items[4]);                            // [- 6], half empty: kept
  for (const int item : {1, 2, 3}) index.remove(item, &items[item - 1]);
  // Squeezed to [4], then merged with [- 6]: one chunk of three slots, one of them empty.
  EXPECT_EQ(index.slots(), 3U);
  index.remove(6, &items[5]);  // two of three empty: squeezed
  EXPECT_EQ(index.slots(), 1U);
  EXPECT_EQ(visit_after(index, 0), (Visited{{4, 4}}));
}

TEST(LsnIndex, OrderSortsAcrossChunks) {
  const int items[] = {0, 1, 2, 3, 4, 5, 6};
  LsnIndex<int, 2> index;
  for (const std::uint64_t lsn : {50, 20, 70, 10, 40, 30, 60}) {
    index.add(lsn, &items[lsn / 10 - 1]);
  }
  index.order();
  EXPECT_EQ(visit_after(index, 25), (Visited{{30, 2}, {40, 3}, {50, 4}, {60, 5}, {70, 6}}));
  index.remove(40, &items[3]);
  index.remove(30, &items[2]);
  index.add(80, &items[0]);
  EXPECT_EQ(visit_after(index, 0), (Visited{{10, 0}, {20, 1}, {50, 4}, {60, 5}, {70, 6}, {80, 0}}));
}

}  // namespace
}  // namespace herd::store
