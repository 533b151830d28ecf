#include "protocol/line_splitter.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace herd::protocol {

// Found by argument-dependent lookup, so gtest prints a line's size rather than 16 KiB of it.
void PrintTo(const Line& line, std::ostream* os) {
  *os << "Line{" << line.text.size() << " bytes: \"" << line.text.substr(0, 40) << "\""
      << (line.overlong ? ", overlong" : "") << "}";
}

namespace {

constexpr std::size_t kMax = LineSplitter::kMaxLine;

std::vector<Line> split_all(const std::vector<std::string>& chunks, bool finish = true) {
  LineSplitter splitter;
  std::vector<Line> out;
  for (const auto& chunk : chunks) splitter.feed(chunk, out);
  if (finish) splitter.finish(out);
  return out;
}

TEST(LineSplitter, CutsAtNewlineAndStripsOneCarriageReturn) {
  EXPECT_EQ(split_all({"a b\nc\r\nd\r\r\n"}),
            (std::vector<Line>{{"a b", false}, {"c", false}, {"d\r", false}}));
}

TEST(LineSplitter, EmitsEmptyLinesForTheCallerToSkip) {
  EXPECT_EQ(split_all({"\n\r\n \t\n"}),
            (std::vector<Line>{{"", false}, {"", false}, {" \t", false}}));
}

TEST(LineSplitter, JoinsLinesSplitAcrossFeeds) {
  EXPECT_EQ(split_all({"IAM", "AT x", " +1-2 5\r", "\nWHAT", "SAT"}),
            (std::vector<Line>{{"IAMAT x +1-2 5", false}, {"WHATSAT", false}}));
}

TEST(LineSplitter, ByteByByteFeedsGiveTheSameLines) {
  const std::string stream = "one\r\ntwo\n\nthree\r";
  std::vector<std::string> chunks;
  for (const char c : stream) chunks.emplace_back(1, c);
  EXPECT_EQ(split_all(chunks), split_all({stream}));
  EXPECT_EQ(split_all({stream}),
            (std::vector<Line>{{"one", false}, {"two", false}, {"", false}, {"three\r", false}}));
}

TEST(LineSplitter, LastLineWithoutNewlineKeepsItsCarriageReturn) {
  EXPECT_EQ(split_all({"abc\r"}), (std::vector<Line>{{"abc\r", false}}));
  EXPECT_EQ(split_all({"abc"}), (std::vector<Line>{{"abc", false}}));
  EXPECT_TRUE(split_all({""}).empty());
  EXPECT_TRUE(split_all({"abc\n"}, false).size() == 1);
}

TEST(LineSplitter, PendingLineIsNotEmittedBeforeFinish) {
  LineSplitter splitter;
  std::vector<Line> out;
  splitter.feed("abc", out);
  EXPECT_TRUE(out.empty());
  splitter.finish(out);
  EXPECT_EQ(out, (std::vector<Line>{{"abc", false}}));
  out.clear();
  splitter.finish(out);  // nothing left after the first finish
  EXPECT_TRUE(out.empty());
}

TEST(LineSplitter, LineOfExactlyTheLimitIsFine) {
  const std::string line(kMax, 'x');
  EXPECT_EQ(split_all({line + "\n"}), (std::vector<Line>{{line, false}}));
  EXPECT_EQ(split_all({line + "\r\n"}), (std::vector<Line>{{line, false}}));
  EXPECT_EQ(split_all({line}), (std::vector<Line>{{line, false}}));
  // "\r\n" right at the limit, split between feeds: not over-long.
  EXPECT_EQ(split_all({line + "\r", "\nnext\n"}),
            (std::vector<Line>{{line, false}, {"next", false}}));
  EXPECT_EQ(split_all({line, "\r", "\n"}), (std::vector<Line>{{line, false}}));
}

TEST(LineSplitter, LineOneByteOverTheLimitIsOverlong) {
  const std::string line(kMax + 1, 'y');
  const Line expected{line.substr(0, kMax), true};
  EXPECT_EQ(split_all({line + "\nok\n"}), (std::vector<Line>{expected, {"ok", false}}));
  EXPECT_EQ(split_all({line + "\r\nok\n"}), (std::vector<Line>{expected, {"ok", false}}));
  EXPECT_EQ(split_all({line}), (std::vector<Line>{expected}));
}

TEST(LineSplitter, LimitThenCarriageReturnThenMoreIsOverlong) {
  const std::string line(kMax, 'z');
  const Line expected{line, true};
  EXPECT_EQ(split_all({line + "\r", "z\nok\n"}), (std::vector<Line>{expected, {"ok", false}}));
  EXPECT_EQ(split_all({line + "\r\r\n"}), (std::vector<Line>{expected}));
  // At the end of the stream the '\r' is content: kMax + 1 bytes.
  EXPECT_EQ(split_all({line + "\r"}), (std::vector<Line>{expected}));
}

TEST(LineSplitter, OverlongIsReportedBeforeItsEndArrives) {
  LineSplitter splitter;
  std::vector<Line> out;
  splitter.feed(std::string(kMax, 'a'), out);
  EXPECT_TRUE(out.empty());
  splitter.feed("\r", out);
  EXPECT_TRUE(out.empty());  // may still be "\r\n"
  splitter.feed("b", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (Line{std::string(kMax, 'a'), true}));

  LineSplitter second;
  out.clear();
  second.feed(std::string(kMax + 1, 'c'), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (Line{std::string(kMax, 'c'), true}));
}

TEST(LineSplitter, TailOfOverlongLineIsDiscardedAcrossManyFeeds) {
  LineSplitter splitter;
  std::vector<Line> out;
  std::string head;
  for (int i = 0; i < 100; ++i) {
    const std::string chunk(1000, static_cast<char>('a' + i % 26));
    if (head.size() < kMax) head += chunk;
    splitter.feed(chunk, out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (Line{head.substr(0, kMax), true}));
  splitter.feed("still the same line\r", out);
  splitter.feed("\nIAMAT next\r\nlast", out);
  splitter.finish(out);
  EXPECT_EQ(out, (std::vector<Line>{
                     {head.substr(0, kMax), true}, {"IAMAT next", false}, {"last", false}}));
}

TEST(LineSplitter, OverlongTailEndedByStreamEndGivesNothingMore) {
  EXPECT_EQ(split_all({std::string(kMax + 5000, 'q')}),
            (std::vector<Line>{{std::string(kMax, 'q'), true}}));
}

TEST(LineSplitter, ManyLinesInOneFeedAfterAnOverlongOne) {
  const std::string stream = std::string(kMax + 2, 'w') + "\na\nb\r\n\nc";
  EXPECT_EQ(
      split_all({stream}),
      (std::vector<Line>{
          {std::string(kMax, 'w'), true}, {"a", false}, {"b", false}, {"", false}, {"c", false}}));
}

}  // namespace
}  // namespace herd::protocol
