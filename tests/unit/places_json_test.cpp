#include "protocol/places_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace herd::protocol {
namespace {

std::string read_sample(const std::string& name) {
  std::ifstream file(std::string(HERD_SHARED_DIR) + "/places-samples/" + name, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

constexpr std::string_view kResultOpen = "\n      {\n         \"geometry\"";
constexpr std::string_view kResultClose = "\n      }";

// The end (one past the '}') of each result in a sample, found by its layout alone: each
// result of the sample opens at six spaces of indent and closes the same way.
std::vector<std::size_t> result_ends(const std::string& sample) {
  std::vector<std::size_t> ends;
  for (std::size_t open = sample.find(kResultOpen); open != std::string::npos;
       open = sample.find(kResultOpen, open + 1)) {
    ends.push_back(sample.find(kResultClose, open) + kResultClose.size());
  }
  return ends;
}

TEST(TrimResults, KeepsTheFirstBoundResultsOfTheBankSample) {
  const std::string sample = read_sample("bank-3-results.json");
  const auto ends = result_ends(sample);
  ASSERT_EQ(ends.size(), 3u);
  const auto original = boost::json::parse(sample).at("results").as_array();
  ASSERT_EQ(original.size(), 3u);
  for (int bound : {1, 2}) {
    const auto trimmed = trim_results(sample, bound);
    ASSERT_TRUE(trimmed.has_value()) << bound;
    const std::size_t keep_end = ends[bound - 1];
    const std::size_t last_end = ends.back();
    EXPECT_EQ(*trimmed, sample.substr(0, keep_end) + sample.substr(last_end)) << bound;
    EXPECT_EQ(trimmed->size(), sample.size() - (last_end - keep_end));
    EXPECT_EQ(trimmed->substr(keep_end), "\n   ],\n   \"status\" : \"OK\"\n}\n");
    const auto parsed = boost::json::parse(*trimmed);
    const auto& results = parsed.at("results").as_array();
    ASSERT_EQ(results.size(), static_cast<std::size_t>(bound));
    for (int i = 0; i < bound; ++i) EXPECT_EQ(results[i], original[i]);
    EXPECT_EQ(parsed.at("status"), "OK");
  }
}

TEST(TrimResults, BoundAtOrAboveTheCountChangesNothing) {
  for (const char* name : {"bank-3-results.json", "supermarket-1-result.json"}) {
    const std::string sample = read_sample(name);
    for (int bound : {3, 4, 20}) EXPECT_EQ(trim_results(sample, bound), sample) << name;
  }
  const std::string supermarket = read_sample("supermarket-1-result.json");
  EXPECT_EQ(trim_results(supermarket, 1), supermarket);
}

TEST(TrimResults, WorksOnCompactJson) {
  EXPECT_EQ(trim_results(R"({"results":[{"a":"],}"},[1,2],"x\"]",4,{}],"status":"OK"})", 2),
            R"({"results":[{"a":"],}"},[1,2]],"status":"OK"})");
  EXPECT_EQ(trim_results(R"({"results":[1,2,3]})", 1), R"({"results":[1]})");
  EXPECT_EQ(trim_results(" { \"results\" : [ 1 , 2 ] } ", 1), " { \"results\" : [ 1 ] } ");
}

TEST(TrimResults, OnlyTheTopLevelResultsArrayIsCut) {
  const std::string body =
      R"({"a":{"results":[1,2,3]},"list":["results",["results"]],"results":[7,8,9],"z":[1,2,3]})";
  EXPECT_EQ(
      trim_results(body, 1),
      R"({"a":{"results":[1,2,3]},"list":["results",["results"]],"results":[7],"z":[1,2,3]})");
}

TEST(TrimResults, KeyWrittenWithEscapesIsStillResults) {
  EXPECT_EQ(trim_results(R"({"\u0072esults":[1,2]})", 1), R"({"\u0072esults":[1]})");
  EXPECT_EQ(trim_results(R"({"results\\":[1,2]})", 1), R"({"results\\":[1,2]})");
}

TEST(TrimResults, BodyWithoutResultsArrayIsUnchanged) {
  EXPECT_EQ(trim_results(R"({"status":"ZERO_RESULTS"})", 1), R"({"status":"ZERO_RESULTS"})");
  EXPECT_EQ(trim_results(R"({"results":"none","x":1})", 1), R"({"results":"none","x":1})");
  EXPECT_EQ(trim_results(R"({"results":[]})", 1), R"({"results":[]})");
}

TEST(TrimResults, RejectsWhatIsNotOneJsonObject) {
  for (const char* body : {"", "not json", "<html>502</html>", "[1,2,3]", "\"results\"", "42",
                           "{\"results\":[1,2]", "{\"results\":[1,2]} {}", "{} x"}) {
    EXPECT_EQ(trim_results(body, 1), std::nullopt) << body;
  }
}

TEST(CollapseNewlines, RunsBecomeOneAndTrailingOnesGo) {
  EXPECT_EQ(collapse_newlines("a\n\nb\n\n\n\nc\nd\n\n"), "a\nb\nc\nd");
  EXPECT_EQ(collapse_newlines("{\n}\n"), "{\n}");
  EXPECT_EQ(collapse_newlines("\n\n\nx"), "\nx");
  EXPECT_EQ(collapse_newlines("a\r\n\r\nb"), "a\r\n\r\nb");
  EXPECT_EQ(collapse_newlines("\n\n"), "");
  EXPECT_EQ(collapse_newlines(""), "");
}

TEST(CollapseNewlines, LeavesASampleWithOneTrailingNewlineOtherwiseIntact) {
  const std::string sample = read_sample("bank-3-results.json");
  EXPECT_EQ(collapse_newlines(sample), sample.substr(0, sample.size() - 1));
}

TEST(PlacesErrorBody, HasTheLegacyShapeInGooglesLayout) {
  EXPECT_EQ(places_error_body("UNKNOWN_ERROR", "places source timed out after 5 s"),
            "{\n"
            "   \"error_message\" : \"places source timed out after 5 s\",\n"
            "   \"html_attributions\" : [],\n"
            "   \"results\" : [],\n"
            "   \"status\" : \"UNKNOWN_ERROR\"\n"
            "}\n");
  EXPECT_EQ(places_error_body("OVER_QUERY_LIMIT", "a \"quoted\" <b>"),
            "{\n"
            "   \"error_message\" : \"a \\\"quoted\\\" \\u003cb\\u003e\",\n"
            "   \"html_attributions\" : [],\n"
            "   \"results\" : [],\n"
            "   \"status\" : \"OVER_QUERY_LIMIT\"\n"
            "}\n");
}

}  // namespace
}  // namespace herd::protocol
