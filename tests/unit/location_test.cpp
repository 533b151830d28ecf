#include "protocol/location.hpp"

#include <gtest/gtest.h>

namespace herd::protocol {
namespace {

void expect_location(const char* text, const char* latitude, const char* longitude) {
  const auto location = parse_location(text);
  ASSERT_TRUE(location.has_value()) << text;
  EXPECT_EQ(location->latitude, latitude) << text;
  EXPECT_EQ(location->longitude, longitude) << text;
}

TEST(Location, SplitsWhereTheSecondSignAppears) {
  expect_location("+34.068930-118.445127", "+34.068930", "-118.445127");
  expect_location("+1-2", "+1", "-2");
  expect_location("-1+2", "-1", "+2");
  expect_location("-0.5+0.25", "-0.5", "+0.25");
  expect_location("+00+000", "+00", "+000");
  expect_location("+12.000000000000000000000001-179.99999999999999999999",
                  "+12.000000000000000000000001", "-179.99999999999999999999");
}

TEST(Location, BoundariesAreExactDecimals) {
  expect_location("+90+180", "+90", "+180");
  expect_location("-90-180", "-90", "-180");
  expect_location("+90.000-180.0", "+90.000", "-180.0");
  expect_location("+89.9999999999999999999+179.9999999999999999", "+89.9999999999999999999",
                  "+179.9999999999999999");
  for (const char* text : {"+90.0001+0", "-90.000000000000000000001+0", "+91+0", "+0+180.0001",
                           "+0-180.0000000000000000001", "+0+181", "+0+999", "+99+0"}) {
    EXPECT_EQ(parse_location(text), std::nullopt) << text;
  }
}

TEST(Location, RejectsOtherForms) {
  for (const char* text :
       {"",         "+1",     "34-118",  "+34118", "+34.-118", "+.5-118",       "+34-.5",
        "+34-118.", "+123-1", "+1-1234", "+1-2+3", "+1-2 ",    " +1-2",         "+1--2",
        "++1-2",    "+1e1-2", "+1,5-2",  "+1-2x",  "+0x1-2",   "+34.06893O-118"}) {
    EXPECT_EQ(parse_location(text), std::nullopt) << text;
  }
}

TEST(Location, UnsignedPlusStripsOnlyALeadingPlus) {
  EXPECT_EQ(unsigned_plus("+34.068930"), "34.068930");
  EXPECT_EQ(unsigned_plus("-118.4"), "-118.4");
  EXPECT_EQ(unsigned_plus("+0"), "0");
  EXPECT_EQ(unsigned_plus(""), "");
}

}  // namespace
}  // namespace herd::protocol
