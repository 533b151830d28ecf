#include "json/styled_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace herd::json {
namespace {

std::string read_sample(const std::string& name) {
  std::ifstream file(std::string(HERD_SHARED_DIR) + "/places-samples/" + name, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string styled(std::string_view json) {
  return write_styled(boost::json::parse(json));
}

TEST(StyledWriter, ReproducesGoogleSamplesByteForByte) {
  for (const char* name : {"bank-3-results.json", "supermarket-1-result.json"}) {
    const std::string sample = read_sample(name);
    ASSERT_GT(sample.size(), 1000u) << name;
    EXPECT_EQ(write_styled(boost::json::parse(sample)), sample) << name;
  }
}

TEST(StyledWriter, ScalarsAndEmptyContainers) {
  EXPECT_EQ(styled("null"), "null\n");
  EXPECT_EQ(styled("true"), "true\n");
  EXPECT_EQ(styled("false"), "false\n");
  EXPECT_EQ(styled("-42"), "-42\n");
  EXPECT_EQ(styled("18446744073709551615"), "18446744073709551615\n");
  EXPECT_EQ(styled("[]"), "[]\n");
  EXPECT_EQ(styled("{}"), "{}\n");
  EXPECT_EQ(styled("{\"a\":[],\"b\":{}}"), "{\n   \"a\" : [],\n   \"b\" : {}\n}\n");
}

TEST(StyledWriter, DoublesAsPercent16g) {
  EXPECT_EQ(styled("4.6"), "4.6\n");
  EXPECT_EQ(styled("25.7720699"), "25.7720699\n");
  EXPECT_EQ(styled("-73.97649899999999"), "-73.97649899999999\n");
  EXPECT_EQ(styled("0.1"), "0.1\n");
  EXPECT_EQ(styled("5.0"), "5\n");  // %.16g: no point for a whole value
  EXPECT_EQ(styled("1e300"), "1e+300\n");
  EXPECT_EQ(styled("1.5e-7"), "1.5e-07\n");
  EXPECT_EQ(styled("12345678901234567890.0"), "1.234567890123457e+19\n");
  EXPECT_EQ(styled("-0.0"), "-0\n");
  EXPECT_EQ(write_styled(boost::json::value(0.1 + 0.2)), "0.3\n");
}

TEST(StyledWriter, KeysSortedBytewiseAtEveryLevel) {
  EXPECT_EQ(styled(R"({"b":1,"a":{"z":true,"Z":false,"\u00e9":null},"B":2})"),
            "{\n"
            "   \"B\" : 2,\n"
            "   \"a\" : {\n"
            "      \"Z\" : false,\n"
            "      \"z\" : true,\n"
            "      \"\xc3\xa9\" : null\n"
            "   },\n"
            "   \"b\" : 1\n"
            "}\n");
}

TEST(StyledWriter, StringEscapes) {
  EXPECT_EQ(styled(R"("q\" b\\ s/ \b\f\n\r\t \u0001\u001f <a> \u00e9 \u007f")"),
            "\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f \\u003ca\\u003e \xc3\xa9 \x7f\"\n");
  EXPECT_EQ(write_styled(boost::json::value(std::string("nul\0x", 5))), "\"nul\\u0000x\"\n");
}

TEST(StyledWriter, ShortScalarArraysStayOnOneLine) {
  EXPECT_EQ(styled(R"({"t":["a","b"]})"), "{\n   \"t\" : [ \"a\", \"b\" ]\n}\n");
  EXPECT_EQ(styled(R"([1,[],{},null])"), "[ 1, [], {}, null ]\n");
}

TEST(StyledWriter, ArraysWithNonEmptyContainersGoOneElementALine) {
  EXPECT_EQ(styled(R"([1,[2]])"),
            "[\n"
            "   1,\n"
            "   [ 2 ]\n"
            "]\n");
  EXPECT_EQ(styled(R"({"r":[{"a":1},{"b":[]}]})"),
            "{\n"
            "   \"r\" : [\n"
            "      {\n"
            "         \"a\" : 1\n"
            "      },\n"
            "      {\n"
            "         \"b\" : []\n"
            "      }\n"
            "   ]\n"
            "}\n");
}

TEST(StyledWriter, OneLineFormOf74CharactersOrMoreBreaks) {
  // "[ " + "xxx..." (quoted) + " ]": the string token plus 4.
  const std::string seventy_three = "[\"" + std::string(67, 'x') + "\"]";  // 69 + 4 = 73
  EXPECT_EQ(styled(seventy_three), "[ \"" + std::string(67, 'x') + "\" ]\n");
  const std::string seventy_four = "[\"" + std::string(68, 'x') + "\"]";  // 70 + 4 = 74
  EXPECT_EQ(styled(seventy_four), "[\n   \"" + std::string(68, 'x') + "\"\n]\n");
  // Escapes count at their written length: 16 '<' written as \u003c are 96 characters.
  EXPECT_EQ(styled(R"(["<<<<<<<<<<<<<<<<"])").find('\n'), 1u);
}

TEST(StyledWriter, SeparatorsCountTowardsTheOneLineForm) {
  // 23 elements: "[ " + 23 texts + 22 ", " + " ]". With 22 zeros and one 3-digit number the
  // line is 73 characters and stays; with a 4-digit number it is 74 and breaks.
  std::string zeros;
  for (int i = 0; i < 22; ++i) zeros += "0,";
  const std::string stays = styled("[" + zeros + "100]");
  EXPECT_EQ(stays.size(), 74u);  // 73 + the final newline
  EXPECT_EQ(stays.find('\n'), 73u);
  const std::string breaks = styled("[" + zeros + "1000]");
  EXPECT_EQ(breaks.substr(0, 8), "[\n   0,\n");
  EXPECT_EQ(std::count(breaks.begin(), breaks.end(), '\n'), 25);
}

TEST(StyledWriter, TwentyFiveOrMoreElementsGoOneALine) {
  // With elements of at least one character the length rule already breaks 24 or more, so
  // the count rule never decides alone; this pins the resulting layout.
  std::string array = "[[]";
  for (int i = 1; i < 25; ++i) array += ",[]";
  array += "]";
  std::string expected = "[\n";
  for (int i = 0; i < 25; ++i) expected += i < 24 ? "   [],\n" : "   []\n";
  expected += "]\n";
  EXPECT_EQ(styled(array), expected);
}

}  // namespace
}  // namespace herd::json
