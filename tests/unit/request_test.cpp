#include "protocol/request.hpp"

#include <gtest/gtest.h>

namespace herd::protocol {
namespace {

bool is_invalid(std::string_view line) {
  return std::holds_alternative<Invalid>(parse_request(line));
}

TEST(IsBlank, OnlyWhiteSpaceIsBlank) {
  EXPECT_TRUE(is_blank(""));
  EXPECT_TRUE(is_blank(" \t\r\f\v"));
  EXPECT_FALSE(is_blank(" x "));
  EXPECT_FALSE(is_blank("\n"));  // not white space in the protocol's sense
}

TEST(ParseIamat, KeepsTheClientsTextAndParsedValues) {
  const auto request =
      parse_request("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  ASSERT_TRUE(std::holds_alternative<IamAt>(request));
  const auto& iamat = std::get<IamAt>(request);
  EXPECT_EQ(iamat.client_id, "kiwi.cs.ucla.edu");
  EXPECT_EQ(iamat.location_text, "+34.068930-118.445127");
  EXPECT_EQ(iamat.location.latitude, "+34.068930");
  EXPECT_EQ(iamat.location.longitude, "-118.445127");
  EXPECT_EQ(iamat.time_text, "1621464827.959498503");
  EXPECT_EQ(iamat.client_time, (Timestamp{1621464827, 959498503}));
}

TEST(ParseIamat, AnyWhiteSpaceSeparatesFields) {
  const auto request = parse_request("\r\f IAMAT\t\v\xe5\xae\xa2\xe6\x88\xb7\r +1-2\t\t5.5 \r");
  ASSERT_TRUE(std::holds_alternative<IamAt>(request));
  const auto& iamat = std::get<IamAt>(request);
  EXPECT_EQ(iamat.client_id, "\xe5\xae\xa2\xe6\x88\xb7");
  EXPECT_EQ(iamat.location_text, "+1-2");
  EXPECT_EQ(iamat.time_text, "5.5");
}

TEST(ParseIamat, RejectsBadFieldsAndCounts) {
  for (const char* line :
       {"IAMAT kiwi +1-2", "IAMAT kiwi +1-2 5 extra", "IAMAT", "iamat k +1-2 5", "Iamat k +1-2 5",
        "IAMAT k +91-2 5", "IAMAT k 1-2 5", "IAMAT k +1-2 -5", "IAMAT k +1-2 5.",
        "IAMAT k +1-2 12345678901", "IAMAT k +1-2 1.0123456789", "IAMATk +1-2 5"}) {
    EXPECT_TRUE(is_invalid(line)) << line;
  }
}

TEST(ParseWhatsat, ConvertsRadiusAndBound) {
  const auto request = parse_request("WHATSAT kiwi.cs.ucla.edu 10 5");
  ASSERT_TRUE(std::holds_alternative<WhatsAt>(request));
  const auto& whatsat = std::get<WhatsAt>(request);
  EXPECT_EQ(whatsat.client_id, "kiwi.cs.ucla.edu");
  EXPECT_EQ(whatsat.radius_metres, "10000");
  EXPECT_EQ(whatsat.bound, 5);
  const auto edge = std::get<WhatsAt>(parse_request("WHATSAT k 50.000 020"));
  EXPECT_EQ(edge.radius_metres, "50000");
  EXPECT_EQ(edge.bound, 20);
  EXPECT_EQ(std::get<WhatsAt>(parse_request("WHATSAT k 0.0001 1")).radius_metres, "0.1");
}

TEST(ParseWhatsat, RejectsOutOfRangeAndBadCounts) {
  for (const char* line : {"WHATSAT kiwi.cs.ucla.edu 51 5", "WHATSAT k 0 5", "WHATSAT k 50.0001 5",
                           "WHATSAT k 10 0", "WHATSAT k 10 21", "WHATSAT k .5 5", "WHATSAT k 10",
                           "WHATSAT k 10 5 5", "whatsat k 10 5", "WHATSAT k 10 1.0"}) {
    EXPECT_TRUE(is_invalid(line)) << line;
  }
}

TEST(ParseAt, BuildsTheRecordAndKeepsTheLine) {
  const char* line =
      "AT Clark +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503";
  const auto request = parse_request(line);
  ASSERT_TRUE(std::holds_alternative<At>(request));
  const Record& record = std::get<At>(request).record;
  EXPECT_EQ(record.at_line, line);
  EXPECT_EQ(record.client_id, "kiwi.cs.ucla.edu");
  EXPECT_EQ(record.location.latitude, "+34.068930");
  EXPECT_EQ(record.location.longitude, "-118.445127");
  EXPECT_EQ(record.client_time, (Timestamp{1621464827, 959498503}));
}

TEST(ParseAt, RejoinsFieldsWithSingleSpaces) {
  const auto request = parse_request(" AT\tClark  -1.000000000 k\r+1-2  5 ");
  ASSERT_TRUE(std::holds_alternative<At>(request));
  EXPECT_EQ(std::get<At>(request).record.at_line, "AT Clark -1.000000000 k +1-2 5");
}

TEST(ParseAt, RejectsBadFields) {
  for (const char* line : {"AT Clark 0.263873386 k +1-2 5", "AT Clark +0.26387338 k +1-2 5",
                           "AT Clark +0.263873386 k +1-200 5", "AT Clark +0.263873386 k +1-2 5.",
                           "AT Clark +0.263873386 k +1-2", "AT Clark +0.263873386 k +1-2 5 x",
                           "at Clark +0.0 k +1-2 5", "AT +0.263873386 k +1-2 5"}) {
    EXPECT_TRUE(is_invalid(line)) << line;
  }
}

TEST(ParseHello, TakesTheServerName) {
  const auto request = parse_request("HERD Bernard");
  ASSERT_TRUE(std::holds_alternative<Hello>(request));
  EXPECT_EQ(std::get<Hello>(request).server_name, "Bernard");
  EXPECT_TRUE(is_invalid("HERD"));
  EXPECT_TRUE(is_invalid("HERD Bernard Clark"));
  EXPECT_TRUE(is_invalid("HERD Bernard 0123456789abcdef0123456789ABCDEF"));
  EXPECT_TRUE(is_invalid("HERD Bernard 0123456789abcdef0123456789abcde"));
  EXPECT_TRUE(is_invalid("HERD Bernard 0123456789abcdef0123456789abcdef extra"));
}

TEST(ParseHello, TakesANonceOfThirtyTwoHexDigits) {
  const auto request = parse_request("HERD Bernard 0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(std::holds_alternative<Hello>(request));
  EXPECT_EQ(std::get<Hello>(request).server_name, "Bernard");
  EXPECT_EQ(std::get<Hello>(request).nonce, "0123456789abcdef0123456789abcdef");
}

TEST(ParseProof, TakesSixtyFourHexDigits) {
  const std::string mac(64, 'a');
  const auto request = parse_request("PROOF " + mac);
  ASSERT_TRUE(std::holds_alternative<Proof>(request));
  EXPECT_EQ(std::get<Proof>(request).mac, mac);
  EXPECT_TRUE(is_invalid("PROOF " + std::string(63, 'a')));
  EXPECT_TRUE(is_invalid("PROOF " + std::string(64, 'A')));
  EXPECT_TRUE(is_invalid("PROOF"));
}

TEST(ParseChallenge, TakesANonceAndAProof) {
  const std::string nonce(32, '0'), mac(64, 'f');
  auto challenge = parse_challenge("CHALLENGE " + nonce + " " + mac);
  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->nonce, nonce);
  EXPECT_EQ(challenge->mac, mac);
  EXPECT_FALSE(parse_challenge("CHALLENGE " + nonce).has_value());
  EXPECT_FALSE(parse_challenge("CHALLENGE " + mac + " " + nonce).has_value());
  EXPECT_FALSE(parse_challenge("? HERD Bernard " + nonce).has_value());
  EXPECT_TRUE(is_invalid("herd Bernard"));
}

TEST(ParseMark, TakesAStoreIdAndAnLsn) {
  const auto request = parse_request("MARK 0123456789abcdef 42");
  ASSERT_TRUE(std::holds_alternative<Mark>(request));
  EXPECT_EQ(std::get<Mark>(request).position, (StorePosition{"0123456789abcdef", 42}));
  const auto edge = parse_request("\tMARK  fedcba9876543210 18446744073709551615 \r");
  ASSERT_TRUE(std::holds_alternative<Mark>(edge));
  EXPECT_EQ(std::get<Mark>(edge).position,
            (StorePosition{"fedcba9876543210", 18446744073709551615ull}));
  const auto zero = parse_request("MARK 0000000000000000 0");
  ASSERT_TRUE(std::holds_alternative<Mark>(zero));
  EXPECT_EQ(std::get<Mark>(zero).position, (StorePosition{"0000000000000000", 0}));
}

TEST(ParseMark, RejectsBadFields) {
  for (const char* line :
       {"MARK", "MARK 0123456789abcdef", "MARK 0123456789abcdef 1 2", "MARK - 0", "MARK - 5",
        "MARK 0123456789ABCDEF 1", "MARK 0123456789abcde 1", "MARK 0123456789abcdef0 1",
        "MARK 0123456789abcdeg 1", "MARK 0123456789abcdef -1", "MARK 0123456789abcdef +1",
        "MARK 0123456789abcdef 1.0", "MARK 0123456789abcdef 18446744073709551616",
        "mark 0123456789abcdef 1", "MARK 42 0123456789abcdef", "MARK0123456789abcdef 1"}) {
    EXPECT_TRUE(is_invalid(line)) << line;
  }
}

TEST(ParseRequest, UnknownCommandsAreInvalid) {
  for (const char* line : {"HELLO", "? IAMAT k +1-2 5", "x", "IAMAT\xc2\xa0k +1-2 5"}) {
    EXPECT_TRUE(is_invalid(line)) << line;
  }
}

}  // namespace
}  // namespace herd::protocol
