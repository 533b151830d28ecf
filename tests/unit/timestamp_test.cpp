#include "protocol/timestamp.hpp"

#include <gtest/gtest.h>

namespace herd::protocol {
namespace {

using std::chrono::nanoseconds;
using std::chrono::system_clock;

Timestamp ts(std::int64_t seconds, std::int32_t nanos) {
  return Timestamp{seconds, nanos};
}

TEST(ClientTime, ParsesSecondsAndFractionScaledToNanoseconds) {
  EXPECT_EQ(parse_client_time("1621464827.959498503"), ts(1621464827, 959498503));
  EXPECT_EQ(parse_client_time("1621464827"), ts(1621464827, 0));
  EXPECT_EQ(parse_client_time("1621464827.5"), ts(1621464827, 500000000));
  EXPECT_EQ(parse_client_time("0.000000001"), ts(0, 1));
  EXPECT_EQ(parse_client_time("0"), ts(0, 0));
  EXPECT_EQ(parse_client_time("0000000001.10"), ts(1, 100000000));
}

TEST(ClientTime, MaximumValueIsExact) {
  EXPECT_EQ(parse_client_time("9999999999.999999999"), ts(9999999999, 999999999));
}

TEST(ClientTime, RejectsEverythingElse) {
  for (const char* text : {"", "12345678901", "1.", ".5", "1.1234567890", "+1", "-1", "1e9",
                           "1.5e3", "1,5", "0x10", "1..2", "1.2.3", " 1", "1 ", "a", "1.a", "١"}) {
    EXPECT_EQ(parse_client_time(text), std::nullopt) << text;
  }
}

TEST(TimeDifference, FormatsWithExplicitSignAndNineDigits) {
  EXPECT_EQ(format_time_difference(ts(1621464828, 223371889), ts(1621464827, 959498503)),
            "+0.263873386");
  EXPECT_EQ(format_time_difference(ts(5, 0), ts(5, 0)), "+0.000000000");
  EXPECT_EQ(format_time_difference(ts(10, 0), ts(22, 1)), "-12.000000001");
  EXPECT_EQ(format_time_difference(ts(22, 1), ts(10, 0)), "+12.000000001");
  EXPECT_EQ(format_time_difference(ts(10, 999999999), ts(11, 0)), "-0.000000001");
  EXPECT_EQ(format_time_difference(ts(1621464827, 959498503), ts(0, 0)), "+1621464827.959498503");
}

TEST(TimeDifference, ExtremesDoNotOverflow) {
  const Timestamp max = ts(9999999999, 999999999);
  EXPECT_EQ(format_time_difference(max, ts(0, 0)), "+9999999999.999999999");
  EXPECT_EQ(format_time_difference(ts(0, 0), max), "-9999999999.999999999");
  EXPECT_EQ(format_time_difference(max, max), "+0.000000000");
  // Further than any client may send: still exact.
  EXPECT_EQ(format_time_difference(ts(INT64_MAX, 999999999), ts(INT64_MIN, 0)),
            "+18446744073709551615.999999999");
  EXPECT_EQ(format_time_difference(ts(INT64_MIN, 0), ts(INT64_MAX, 999999999)),
            "-18446744073709551615.999999999");
}

TEST(TimeDifference, RecognisesWhatFormatWrites) {
  for (const char* text : {"+0.263873386", "-12.000000001", "+0.000000000",
                           "+18446744073709551615.999999999", "-9999999999.999999999"}) {
    EXPECT_TRUE(is_time_difference(text)) << text;
  }
  for (const char* text :
       {"", "0.263873386", "+.263873386", "+0.26387338", "+0.2638733861", "++0.263873386",
        "+0,263873386", "+0.26387338a", "+a.263873386", "+0.263873386 ", "+0", "+1.", "-"}) {
    EXPECT_FALSE(is_time_difference(text)) << text;
  }
}

TEST(TimeDifference, FormatAndRecogniseAgreeOnRandomishValues) {
  for (std::int64_t s = 0; s < 9999999999; s = s * 7 + 13) {
    for (std::int32_t n : {0, 1, 999999999, 123456789}) {
      EXPECT_TRUE(is_time_difference(format_time_difference(ts(s, n), ts(3, 500000000))));
    }
  }
}

TEST(ToTimestamp, SplitsClockIntoSecondsAndNanoseconds) {
  const system_clock::time_point point{
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(1621464827959498000))};
  EXPECT_EQ(to_timestamp(point), ts(1621464827, 959498000));
  EXPECT_EQ(to_timestamp(system_clock::time_point{}), ts(0, 0));
  const system_clock::time_point before_epoch{
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(-1000))};
  EXPECT_EQ(to_timestamp(before_epoch), ts(-1, 999999000));
}

TEST(Timestamp, OrdersBySecondsThenNanoseconds) {
  EXPECT_LT(ts(1, 999999999), ts(2, 0));
  EXPECT_LT(ts(2, 0), ts(2, 1));
  EXPECT_EQ(ts(2, 1), ts(2, 1));
}

}  // namespace
}  // namespace herd::protocol
