#include "protocol/radius.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herd::protocol {
namespace {

TEST(Radius, ConvertsToMetresExactly) {
  const std::pair<const char*, const char*> cases[] = {
      {"10", "10000"},
      {"0.0001", "0.1"},
      {"2.50", "2500"},
      {"0.001", "1"},
      {"007", "7000"},
      {"0.00001", "0.01"},
      {"12.3456", "12345.6"},
      {"2.5", "2500"},
      {"50", "50000"},
      {"050", "50000"},
      {"50.000", "50000"},
      {"1", "1000"},
      {"0.1", "100"},
      {"0.01", "10"},
      {"00.010", "10"},
      {"49.9999", "49999.9"},
      {"0.0000000000000000000001", "0.0000000000000000001"},
      {"1.2340", "1234"},
      {"3.14159265", "3141.59265"},
  };
  for (const auto& [kilometres, metres] : cases) {
    EXPECT_EQ(parse_radius_metres(kilometres), std::optional<std::string>(metres)) << kilometres;
  }
}

TEST(Radius, RejectsZeroOverFiftyAndOtherForms) {
  for (const char* text : {"0",
                           "000",
                           "0.000",
                           "0.0",
                           "50.0001",
                           "50.0000000000000000001",
                           "51",
                           "100",
                           "999",
                           "99999999999999999999999999999999999999",
                           "00000000000000000000000000000051",
                           ".5",
                           "+10",
                           "-1",
                           "1e1",
                           "10.",
                           "",
                           ".",
                           "1.2.3",
                           "1,5",
                           " 1",
                           "1 ",
                           "0x10",
                           "ten"}) {
    EXPECT_EQ(parse_radius_metres(text), std::nullopt) << text;
  }
}

TEST(Radius, HugeDigitStringsWithLeadingZerosStillCount) {
  EXPECT_EQ(parse_radius_metres("0000000000000000000000000000000000005"),
            std::optional<std::string>("5000"));
}

TEST(Bound, AcceptsOneToTwenty) {
  EXPECT_EQ(parse_bound("1"), 1);
  EXPECT_EQ(parse_bound("5"), 5);
  EXPECT_EQ(parse_bound("20"), 20);
  EXPECT_EQ(parse_bound("020"), 20);
  EXPECT_EQ(parse_bound("00000000000000000000000001"), 1);
}

TEST(Bound, RejectsEverythingElse) {
  for (const char* text : {"0", "00", "21", "99", "100", "99999999999999999999", "", "+5", "-1",
                           "5.0", "1e1", " 5", "5 ", "x"}) {
    EXPECT_EQ(parse_bound(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace herd::protocol
