#include "store/lsn_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace herd::store {
namespace {

using Visited = std::vector<std::pair<std::uint64_t, int>>;

Visited visit_after(const LsnIndex<int>& index, std::uint64_t after) {
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

}  // namespace
}  // namespace herd::store
