#include "limits/token_bucket.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace herd::limits {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, StartsFullAndRefillsAtItsRate) {
  Clock::time_point t0;
  TokenBucket bucket(2.0, 3.0, t0);
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + 499ms));
  EXPECT_TRUE(bucket.try_take(t0 + 500ms));
  EXPECT_FALSE(bucket.try_take(t0 + 500ms));
  // A long quiet spell refills no more than the burst.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(t0 + 1h));
  EXPECT_FALSE(bucket.try_take(t0 + 1h));
  // Time going backwards gives nothing.
  EXPECT_FALSE(bucket.try_take(t0));
}

TEST(TokenBucket, SaysHowLongUntilTheNextToken) {
  Clock::time_point t0;
  TokenBucket bucket(4.0, 1.0, t0);
  EXPECT_EQ(bucket.time_to_next(t0), Clock::duration::zero());
  ASSERT_TRUE(bucket.try_take(t0));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(bucket.time_to_next(t0)), 250ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(bucket.time_to_next(t0 + 100ms)),
            150ms);
  EXPECT_EQ(bucket.time_to_next(t0 + 250ms), Clock::duration::zero());
  EXPECT_TRUE(bucket.try_take(t0 + 250ms));
}

TEST(TokenBucket, WithoutARateItNeverRefills) {
  Clock::time_point t0;
  TokenBucket bucket(0.0, 1.0, t0);
  ASSERT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + 1h));
  EXPECT_GE(bucket.time_to_next(t0), std::chrono::hours(1));
}

}  // namespace
}  // namespace herd::limits
