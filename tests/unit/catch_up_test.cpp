#include "protocol/catch_up.hpp"

#include <gtest/gtest.h>

namespace herd::protocol {
namespace {

constexpr const char* kId = "0123456789abcdef";

TEST(CatchUpLines, AreByteExact) {
  EXPECT_EQ(since_line(StorePosition{}), "SINCE - 0\n");
  EXPECT_EQ(since_line({kId, 42}), "SINCE 0123456789abcdef 42\n");
  EXPECT_EQ(since_line({kId, 0}), "SINCE 0123456789abcdef 0\n");
  EXPECT_EQ(since_line({kId, 18446744073709551615ull}),
            "SINCE 0123456789abcdef 18446744073709551615\n");
  EXPECT_EQ(mark_line({kId, 42}), "MARK 0123456789abcdef 42\n");
  EXPECT_EQ(mark_line({"fedcba9876543210", (7ull << 40) + 1}),
            "MARK fedcba9876543210 7696581394433\n");
}

TEST(ParseSince, TakesWhatSinceLineWrites) {
  for (const StorePosition& position :
       {StorePosition{}, StorePosition{kId, 0}, StorePosition{kId, 42},
        StorePosition{"fedcba9876543210", 18446744073709551615ull}}) {
    std::string line = since_line(position);
    line.pop_back();  // the line splitter takes the terminator off
    const auto parsed = parse_since(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    EXPECT_EQ(*parsed, position) << line;
  }
}

TEST(ParseSince, ReadsTheFields) {
  const auto empty = parse_since("SINCE - 0");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->store_id.empty());
  EXPECT_EQ(empty->lsn, 0u);

  const auto position = parse_since("SINCE 0123456789abcdef 42");
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->store_id, kId);
  EXPECT_EQ(position->lsn, 42u);

  // Fields are separated as in every other line.
  EXPECT_EQ(parse_since(" SINCE\t0123456789abcdef  42\r"), (StorePosition{kId, 42}));
}

TEST(ParseSince, RejectsBadForms) {
  for (const char* line : {
           "",
           "SINCE",
           "SINCE -",
           "SINCE 0123456789abcdef",
           "SINCE 0123456789ABCDEF 42",                    // upper-case hex
           "SINCE 0123456789abcdeF 42",                    // one upper-case digit
           "SINCE 0123456789abcde 42",                     // 15 digits
           "SINCE 0123456789abcdef0 42",                   // 17 digits
           "SINCE 0123456789abcdeg 42",                    // not hex
           "SINCE - 5",                                    // nothing of yours, yet a position in it
           "SINCE - -0",                                   //
           "SINCE - +0",                                   //
           "SINCE 0123456789abcdef -1",                    // negative
           "SINCE 0123456789abcdef -0",                    //
           "SINCE 0123456789abcdef +5",                    // a sign
           "SINCE 0123456789abcdef 4.2",                   //
           "SINCE 0123456789abcdef 0x10",                  //
           "SINCE 0123456789abcdef 42a",                   //
           "SINCE 0123456789abcdef 42 x",                  // extra field
           "SINCE - 0 0",                                  //
           "SINCE 0123456789abcdef 18446744073709551616",  // 2^64
           "SINCE 0123456789abcdef 99999999999999999999",  // 20 digits, too big
           "SINCE 0123456789abcdef 100000000000000000000",  // 21 digits
           "since 0123456789abcdef 42",                     //
           "MARK 0123456789abcdef 42",                      // the other line
           "SINCE- 0",                                      //
       }) {
    EXPECT_FALSE(parse_since(line).has_value()) << '"' << line << '"';
  }
}

TEST(ParsePosition, NeedsAStoreIdAndAPlainDecimalLsn) {
  EXPECT_EQ(parse_position(kId, "42"), (StorePosition{kId, 42}));
  EXPECT_EQ(parse_position(kId, "0"), (StorePosition{kId, 0}));
  EXPECT_EQ(parse_position(kId, "18446744073709551615"),
            (StorePosition{kId, 18446744073709551615ull}));
  EXPECT_FALSE(parse_position("-", "0").has_value());  // a store id is required
  EXPECT_FALSE(parse_position("", "0").has_value());
  EXPECT_FALSE(parse_position("0123456789ABCDEF", "1").has_value());
  EXPECT_FALSE(parse_position(kId, "").has_value());
  EXPECT_FALSE(parse_position(kId, "-1").has_value());
  EXPECT_FALSE(parse_position(kId, "+1").has_value());
  EXPECT_FALSE(parse_position(kId, " 1").has_value());
  EXPECT_FALSE(parse_position(kId, "1 ").has_value());
  EXPECT_FALSE(parse_position(kId, "18446744073709551616").has_value());
}

TEST(IsStoreId, SixteenLowerCaseHexDigits) {
  EXPECT_TRUE(is_store_id("0123456789abcdef"));
  EXPECT_TRUE(is_store_id("0000000000000000"));
  EXPECT_TRUE(is_store_id("ffffffffffffffff"));
  EXPECT_FALSE(is_store_id(""));
  EXPECT_FALSE(is_store_id("-"));
  EXPECT_FALSE(is_store_id("0123456789abcde"));
  EXPECT_FALSE(is_store_id("0123456789abcdef0"));
  EXPECT_FALSE(is_store_id("0123456789ABCDEF"));
  EXPECT_FALSE(is_store_id("0123456789abcdeg"));
  EXPECT_FALSE(is_store_id("0123456789abcde "));
  EXPECT_FALSE(is_store_id(std::string_view("0123456789abcde\0", 16)));
}

}  // namespace
}  // namespace herd::protocol
