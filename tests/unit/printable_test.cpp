#include "text/printable.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herd::text {
namespace {

TEST(PrintableTest, PlainTextAndUtf8StayAsTheyAre) {
  EXPECT_EQ(printable(""), "");
  EXPECT_EQ(printable("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"),
            "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  EXPECT_EQ(printable("caf\xc3\xa9 ~"), "caf\xc3\xa9 ~");
}

TEST(PrintableTest, LineBreaksAndControlBytesAreEscaped) {
  EXPECT_EQ(printable("\n"), R"(\n)");
  EXPECT_EQ(printable("a\r\nb"), R"(a\r\nb)");
  EXPECT_EQ(printable(std::string("\x00\x01\x1f\x7f", 4)), R"(\x00\x01\x1f\x7f)");
  EXPECT_EQ(printable("\x1b[2Jx\t"), R"(\x1b[2Jx\x09)");
  EXPECT_EQ(printable(" \x1f"), R"( \x1f)");
}

TEST(PrintableTest, AppendsAfterWhatIsThere) {
  std::string out = "peer < ";
  append_printable(out, "WHATSAT a\n10 5");
  EXPECT_EQ(out, R"(peer < WHATSAT a\n10 5)");
}

}  // namespace
}  // namespace herd::text
