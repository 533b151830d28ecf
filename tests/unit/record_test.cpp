#include "protocol/record.hpp"

#include <gtest/gtest.h>

#include "protocol/reply.hpp"
#include "protocol/request.hpp"

namespace herd::protocol {
namespace {

Record record(std::int64_t seconds, std::int32_t nanos, std::string at_line) {
  return Record{"kiwi", Location{"+1", "-2"}, Timestamp{seconds, nanos}, std::move(at_line)};
}

TEST(IsNewer, GreaterClientTimeWinsWhateverTheLine) {
  EXPECT_TRUE(is_newer(record(2, 0, "AT A"), record(1, 999999999, "AT Z")));
  EXPECT_FALSE(is_newer(record(1, 999999999, "AT Z"), record(2, 0, "AT A")));
  EXPECT_TRUE(is_newer(record(1, 2, "AT A"), record(1, 1, "AT Z")));
}

TEST(IsNewer, EqualTimesFallBackToBytewiseLineOrder) {
  EXPECT_TRUE(is_newer(record(1, 0, "AT Clark +1.0"), record(1, 0, "AT Bernard +1.0")));
  EXPECT_FALSE(is_newer(record(1, 0, "AT Bernard +1.0"), record(1, 0, "AT Clark +1.0")));
  // A longer line with the same prefix sorts greater.
  EXPECT_TRUE(is_newer(record(1, 0, "AT Clark +1.0 x"), record(1, 0, "AT Clark +1.0")));
}

TEST(IsNewer, EqualRecordsAreNotNewer) {
  EXPECT_FALSE(is_newer(record(1, 0, "AT X"), record(1, 0, "AT X")));
}

TEST(IsNewer, BytesCompareAsUnsigned) {
  // 0xC3 (UTF-8 lead byte) must sort above 'z' (0x7A) on every platform.
  EXPECT_TRUE(is_newer(record(1, 0, "AT \xc3\xa9"), record(1, 0, "AT z")));
  EXPECT_FALSE(is_newer(record(1, 0, "AT z"), record(1, 0, "AT \xc3\xa9")));
  EXPECT_TRUE(is_newer(record(1, 0, std::string("AT \xff", 4)), record(1, 0, "AT \x7f")));
}

TEST(HasAgedOut, ZeroTtlNeverAgesOut) {
  EXPECT_FALSE(has_aged_out(record(0, 0, "AT X"), Timestamp{9999999999, 999999999},
                            std::chrono::seconds(0)));
}

TEST(HasAgedOut, ExactlyAtTheTtlIsNotYetAgedOut) {
  const std::chrono::seconds ttl(10);
  const Record r = record(100, 500, "AT X");
  EXPECT_FALSE(has_aged_out(r, Timestamp{100, 500}, ttl));
  EXPECT_FALSE(has_aged_out(r, Timestamp{109, 999999999}, ttl));
  EXPECT_FALSE(has_aged_out(r, Timestamp{110, 499}, ttl));
  EXPECT_FALSE(has_aged_out(r, Timestamp{110, 500}, ttl));
  EXPECT_TRUE(has_aged_out(r, Timestamp{110, 501}, ttl));
  EXPECT_TRUE(has_aged_out(r, Timestamp{111, 0}, ttl));
}

TEST(HasAgedOut, CountsInWholeNanoseconds) {
  const std::chrono::seconds ttl(86400);
  // The carry from nanoseconds into seconds.
  const Record late = record(100, 999999999, "AT X");
  EXPECT_FALSE(has_aged_out(late, Timestamp{86500, 999999999}, ttl));
  EXPECT_TRUE(has_aged_out(late, Timestamp{86501, 0}, ttl));
  const Record early = record(100, 0, "AT X");
  EXPECT_FALSE(has_aged_out(early, Timestamp{86500, 0}, ttl));
  EXPECT_TRUE(has_aged_out(early, Timestamp{86500, 1}, ttl));
  // The largest client time the protocol allows.
  const Record last = record(9999999999, 999999999, "AT X");
  EXPECT_FALSE(has_aged_out(last, Timestamp{9999999999 + 86400, 999999999}, ttl));
  EXPECT_TRUE(has_aged_out(last, Timestamp{9999999999 + 86401, 0}, ttl));
}

TEST(HasAgedOut, AClientAheadOfTheServerHasNotAgedOut) {
  EXPECT_FALSE(has_aged_out(record(1000, 0, "AT X"), Timestamp{10, 0}, std::chrono::seconds(1)));
}

TEST(MakeRecord, BuildsTheAtLineFromTheClientsBytes) {
  const auto request =
      parse_request("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  const auto& iamat = std::get<IamAt>(request);
  const Record made = make_record("Clark", Timestamp{1621464828, 223371889}, iamat);
  EXPECT_EQ(made.at_line,
            "AT Clark +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  EXPECT_EQ(made.client_id, "kiwi.cs.ucla.edu");
  EXPECT_EQ(made.location.latitude, "+34.068930");
  EXPECT_EQ(made.location.longitude, "-118.445127");
  EXPECT_EQ(made.client_time, (Timestamp{1621464827, 959498503}));
}

TEST(MakeRecord, ClientInTheFutureGetsNegativeDifference) {
  const auto request = parse_request("IAMAT k +1-2 0000000100.50");
  const auto& iamat = std::get<IamAt>(request);
  EXPECT_EQ(make_record("Juzang", Timestamp{90, 0}, iamat).at_line,
            "AT Juzang -10.500000000 k +1-2 0000000100.50");
}

TEST(MakeRecord, RoundTripsThroughTheAtParser) {
  const auto request = parse_request("\tIAMAT  \xc3\xa9t\xc3\xa9 -90.0+180 9999999999.999999999 ");
  const auto& iamat = std::get<IamAt>(request);
  const Record made = make_record("Bernard", Timestamp{0, 0}, iamat);
  EXPECT_EQ(made.at_line,
            "AT Bernard -9999999999.999999999 \xc3\xa9t\xc3\xa9 -90.0+180 9999999999.999999999");
  const auto parsed = parse_request(made.at_line);
  ASSERT_TRUE(std::holds_alternative<At>(parsed));
  const Record& flooded = std::get<At>(parsed).record;
  EXPECT_EQ(flooded.at_line, made.at_line);
  EXPECT_EQ(flooded.client_id, made.client_id);
  EXPECT_EQ(flooded.client_time, made.client_time);
  EXPECT_EQ(flooded.location.latitude, made.location.latitude);
  EXPECT_EQ(flooded.location.longitude, made.location.longitude);
  EXPECT_FALSE(is_newer(flooded, made));
  EXPECT_FALSE(is_newer(made, flooded));
}

TEST(Replies, AreByteExact) {
  const Record r = record(1, 0, "AT Clark +0.263873386 kiwi +1-2 1");
  EXPECT_EQ(at_reply(r), "AT Clark +0.263873386 kiwi +1-2 1\n");
  EXPECT_EQ(invalid_reply("WHATSAT kiwi.cs.ucla.edu 51 5"), "? WHATSAT kiwi.cs.ucla.edu 51 5\n");
  EXPECT_EQ(invalid_reply(" odd\tline\r"), "?  odd\tline\r\n");
  EXPECT_EQ(whatsat_reply(r, "{\n   \"a\" : 1\n}"),
            "AT Clark +0.263873386 kiwi +1-2 1\n{\n   \"a\" : 1\n}\n\n");
  EXPECT_EQ(hello_line("Jaquez"), "HERD Jaquez\n");
}

}  // namespace
}  // namespace herd::protocol
