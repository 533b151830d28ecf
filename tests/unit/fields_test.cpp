#include "protocol/fields.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herd::protocol {
namespace {

using Fields = std::vector<std::string_view>;

TEST(Fields, WhiteSpaceIsSpaceTabCrFfVtButNotNewline) {
  for (const char c : std::string(" \t\r\f\v")) EXPECT_TRUE(is_space(c)) << int(c);
  for (const char c : std::string("\nax\0.+", 6)) EXPECT_FALSE(is_space(c)) << int(c);
}

TEST(Fields, SplitsOnRunsOfAnyWhiteSpace) {
  EXPECT_EQ(split_fields("IAMAT kiwi +1-2 5"), (Fields{"IAMAT", "kiwi", "+1-2", "5"}));
  EXPECT_EQ(split_fields(" \t IAMAT\t\t kiwi\r\f\v+1-2  5 \r"),
            (Fields{"IAMAT", "kiwi", "+1-2", "5"}));
}

TEST(Fields, BlankLinesHaveNoFields) {
  EXPECT_TRUE(split_fields("").empty());
  EXPECT_TRUE(split_fields(" \t\r\f\v").empty());
}

TEST(Fields, KeepsNonAsciiBytesInsideFields) {
  EXPECT_EQ(split_fields("a\xc3\xa9z \xff\x01"), (Fields{"a\xc3\xa9z", "\xff\x01"}));
}

}  // namespace
}  // namespace herd::protocol
