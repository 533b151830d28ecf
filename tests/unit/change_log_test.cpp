#include "store/change_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "store/change.hpp"
#include "store/database.hpp"
#include "store_test_support.hpp"

namespace herd::store {
namespace {

using testing::expect_cursor;
using testing::expect_record;
using testing::put_lsn;
using testing::sorted;

constexpr std::uint64_t kMaxLsn = std::numeric_limits<std::uint64_t>::max();

// Folds `rows` in the order given.
std::vector<StoredRecord> fold(const std::vector<std::string>& rows) {
  ChangeFold fold;
  for (const auto& row : rows) EXPECT_EQ(fold.add(row), 0u) << row;
  return sorted(std::move(fold).records());
}

TEST(EncodeChanges, WritesOneLinePerRecordChange) {
  const ChangeBatch batch = {
      put_lsn(3, 3, "kiwi.cs.ucla.edu", "AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5", ""),
      Change::erase(4, "apple"),
      put_lsn(5, 5, "pear", "AT Juzang +0.2 pear +1+2 3", "Juzang"),
  };
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.last_seq(), 5u);
  EXPECT_EQ(batch.record_lines(),
            "P 3 kiwi.cs.ucla.edu @ AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5\n"
            "E 4 apple\n"
            "P 5 pear @Juzang AT Juzang +0.2 pear +1+2 3\n");
}

TEST(EncodeChanges, PutLineCarriesTheLsnAndEraseLineTheSeq) {
  // In real use a put's LSN is its seq; the line holds the LSN, the record's own.
  const ChangeBatch batch = {put_lsn(7, kMaxLsn, "kiwi", "AT x", "Bernard"),
                             Change::erase(8, "apple")};
  EXPECT_EQ(batch.record_lines(), "P 18446744073709551615 kiwi @Bernard AT x\nE 8 apple\n");
  EXPECT_EQ(batch.last_seq(), 8u);
}

TEST(EncodeChanges, CursorChangesAreKeptApartInOrder) {
  const ChangeBatch batch = {Change::cursor(1, "Juzang", "0123456789abcdef", 9),
                             put_lsn(2, 2, "kiwi", "AT a", ""),
                             Change::cursor(3, "Jaquez", "fedcba9876543210", 4)};
  EXPECT_EQ(batch.record_lines(), "P 2 kiwi @ AT a\n");
  ASSERT_EQ(batch.cursors().size(), 2u);
  expect_cursor(batch.cursors()[0], "Juzang", "0123456789abcdef", 9);
  expect_cursor(batch.cursors()[1], "Jaquez", "fedcba9876543210", 4);
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.last_seq(), 3u);

  const ChangeBatch only_cursors = {Change::cursor(4, "Juzang", "0123456789abcdef", 10)};
  EXPECT_EQ(only_cursors.record_lines(), "");
  EXPECT_FALSE(only_cursors.empty());
}

TEST(EncodeChanges, CopiesWhatTheChangeViews) {
  ChangeBatch batch;
  {
    std::string client = "kiwi";
    std::string line = "AT Clark +0.1 kiwi +34-118 1.5";
    batch.add(Change::put(1, client, line));
    std::string neighbour = "Juzang";
    batch.add(Change::cursor(2, neighbour, "0123456789abcdef", 5));
    client.assign("XXXX");
    line.assign(line.size(), 'X');
    neighbour.assign("XXXXXX");
  }
  EXPECT_EQ(batch.record_lines(), "P 1 kiwi @ AT Clark +0.1 kiwi +34-118 1.5\n");
  ASSERT_EQ(batch.cursors().size(), 1u);
  EXPECT_EQ(batch.cursors()[0].neighbour, "Juzang");
}

TEST(EncodeChanges, AppendAndClear) {
  ChangeBatch batch = {put_lsn(1, 1, "kiwi", "AT a", "")};
  const ChangeBatch later = {Change::erase(2, "kiwi"),
                             Change::cursor(3, "Juzang", "0123456789abcdef", 7)};
  batch.append(later);
  EXPECT_EQ(batch.record_lines(), "P 1 kiwi @ AT a\nE 2 kiwi\n");
  EXPECT_EQ(batch.cursors().size(), 1u);
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.last_seq(), 3u);
  batch.append(ChangeBatch{});
  EXPECT_EQ(batch.size(), 3u);
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.record_lines(), "");
  EXPECT_TRUE(batch.cursors().empty());
  EXPECT_EQ(batch.last_seq(), 0u);
}

TEST(EncodeRecords, WritesPutLines) {
  const std::vector<StoredRecord> records = {
      {"kiwi", "AT Clark +0.1 kiwi +34-118 1.5", 12, ""},
      {"apple", "AT Juzang +0.2 apple +1+2 3", kMaxLsn, "Juzang"},
  };
  std::string out = "E 1 pear\n";
  encode_records(records, out);
  EXPECT_EQ(out,
            "E 1 pear\n"
            "P 12 kiwi @ AT Clark +0.1 kiwi +34-118 1.5\n"
            "P 18446744073709551615 apple @Juzang AT Juzang +0.2 apple +1+2 3\n");

  std::string none;
  encode_records({}, none);
  EXPECT_EQ(none, "");
}

TEST(ChangeFold, EncodedChangesRoundTrip) {
  const ChangeBatch batch = {
      put_lsn(1, 1, "kiwi.cs.ucla.edu", "AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5", ""),
      put_lsn(2, kMaxLsn, "apple", "AT Juzang +0.2 apple +1+2 3", "Juzang"),
      put_lsn(3, 0, "zero", "AT Bernard +0 zero +0+0 0", "Bernard"),
      Change::cursor(4, "Juzang", "0123456789abcdef", 9),
  };
  const auto records = fold({batch.record_lines()});
  ASSERT_EQ(records.size(), 3u);
  expect_record(records[0], "apple", "AT Juzang +0.2 apple +1+2 3", kMaxLsn, "Juzang");
  expect_record(records[1], "kiwi.cs.ucla.edu", "AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5", 1,
                "");
  expect_record(records[2], "zero", "AT Bernard +0 zero +0+0 0", 0, "Bernard");
}

TEST(ChangeFold, EncodedRecordsRoundTrip) {
  const std::vector<StoredRecord> records = {
      {"kiwi", "AT Clark +0.1 kiwi +34-118 1.5", 12, ""},
      {"apple", "AT Juzang +0.2 apple +1+2 3", kMaxLsn, "Juzang"},
  };
  std::string row;
  encode_records(records, row);
  const auto back = fold({row});
  ASSERT_EQ(back.size(), 2u);
  expect_record(back[0], "apple", "AT Juzang +0.2 apple +1+2 3", kMaxLsn, "Juzang");
  expect_record(back[1], "kiwi", "AT Clark +0.1 kiwi +34-118 1.5", 12, "");
}

TEST(ChangeFold, GreaterSeqWinsWhateverTheOrder) {
  const std::string older = "P 5 kiwi @ AT old\n";
  const std::string newer = "P 9 kiwi @Juzang AT new\n";
  for (const auto& rows : {std::vector<std::string>{older, newer}, {newer, older}}) {
    const auto records = fold(rows);
    ASSERT_EQ(records.size(), 1u);
    expect_record(records[0], "kiwi", "AT new", 9, "Juzang");
  }
  // Within one row as well.
  for (const auto& row : {older + newer, newer + older}) {
    const auto records = fold({row});
    ASSERT_EQ(records.size(), 1u);
    expect_record(records[0], "kiwi", "AT new", 9, "Juzang");
  }
}

TEST(ChangeFold, EraseWithAGreaterSeqRemoves) {
  const std::string put_line = "P 5 kiwi @ AT a\nP 6 apple @ AT b\n";
  const std::string erase_line = "E 7 kiwi\n";
  for (const auto& rows :
       {std::vector<std::string>{put_line, erase_line}, {erase_line, put_line}}) {
    const auto records = fold(rows);
    ASSERT_EQ(records.size(), 1u);
    expect_record(records[0], "apple", "AT b", 6, "");
  }
}

TEST(ChangeFold, EraseWithASmallerSeqDoesNotRemove) {
  const std::string put_line = "P 5 kiwi @ AT a\n";
  const std::string erase_line = "E 4 kiwi\n";
  for (const auto& rows :
       {std::vector<std::string>{put_line, erase_line}, {erase_line, put_line}}) {
    const auto records = fold(rows);
    ASSERT_EQ(records.size(), 1u);
    expect_record(records[0], "kiwi", "AT a", 5, "");
  }
}

TEST(ChangeFold, PutAfterEraseRestores) {
  const std::vector<std::string> rows = {"P 5 kiwi @ AT old\n", "E 7 kiwi\n",
                                         "P 8 kiwi @Bernard AT again\n"};
  // Every order of the three rows.
  std::vector<std::size_t> order = {0, 1, 2};
  do {
    std::vector<std::string> shuffled;
    shuffled.reserve(order.size());
    for (const auto i : order) shuffled.push_back(rows[i]);
    const auto records = fold(shuffled);
    ASSERT_EQ(records.size(), 1u);
    expect_record(records[0], "kiwi", "AT again", 8, "Bernard");
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(ChangeFold, RecordsComeOldestFirst) {
  // Many clients, so that the table's own order is not LSN order by chance; rows and
  // lines in no order, and a client whose newest put came after others' (kiwi).
  ChangeFold fold;
  std::vector<std::uint64_t> expected;
  std::string row;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const std::uint64_t lsn = 1000 + (i * 7919) % 200;  // every LSN of 1000..1199 once
    row += "P " + std::to_string(lsn) + " client" + std::to_string(i) + " @ AT x\n";
    expected.push_back(lsn);
    if (i % 50 == 49) {
      EXPECT_EQ(fold.add(row), 0u);
      row.clear();
    }
  }
  EXPECT_EQ(fold.add("P 5 kiwi @ AT old\nP 2000 kiwi @ AT new\nP 7 pear @ AT gone\n"), 0u);
  EXPECT_EQ(fold.add("E 2001 pear\n"), 0u);
  expected.push_back(2000);
  std::sort(expected.begin(), expected.end());

  const auto records = std::move(fold).records();
  std::vector<std::uint64_t> lsns;
  lsns.reserve(records.size());
  for (const auto& record : records) lsns.push_back(record.lsn);
  EXPECT_EQ(lsns, expected);
  expect_record(records.back(), "kiwi", "AT new", 2000, "");
  expect_record(records.front(), "client0", "AT x", 1000, "");
}

TEST(ChangeFold, KeepsWhatItReadsAfterTheCallersRowIsGone) {
  // A database hands the fold each row in a buffer that its next row reuses.
  ChangeFold fold;
  std::string row = "P 3 kiwi @Juzang AT Juzang +0.2 kiwi +1+2 3\n";
  EXPECT_EQ(fold.add(row), 0u);
  std::fill(row.begin(), row.end(), 'x');
  row = "P 1 a @ AT short\n";  // short enough for a string's own inline buffer
  EXPECT_EQ(fold.add(row), 0u);
  row.assign(200, 'y');
  for (int i = 0; i < 100; ++i) EXPECT_EQ(fold.add("P 2 b" + std::to_string(i) + " @ AT z"), 0u);

  const auto records = std::move(fold).records();
  ASSERT_EQ(records.size(), 102u);
  expect_record(records.front(), "a", "AT short", 1, "");
  expect_record(records.back(), "kiwi", "AT Juzang +0.2 kiwi +1+2 3", 3, "Juzang");
}

TEST(ChangeFold, EraseOfAnUnknownClientLeavesNothing) {
  EXPECT_TRUE(fold({"E 3 never-there\n"}).empty());
}

TEST(ChangeFold, EmptySourceRoundTripsAsEmpty) {
  const std::string row =
      ChangeBatch{put_lsn(4, 4, "kiwi", "AT Clark +0.1 kiwi +34-118 1.5", "")}.record_lines();
  EXPECT_EQ(row, "P 4 kiwi @ AT Clark +0.1 kiwi +34-118 1.5\n");
  const auto records = fold({row});
  ASSERT_EQ(records.size(), 1u);
  expect_record(records[0], "kiwi", "AT Clark +0.1 kiwi +34-118 1.5", 4, "");
}

TEST(ChangeFold, LastLineNeedsNoNewline) {
  const auto records = fold({"P 1 kiwi @ AT a\nP 2 apple @ AT b"});
  ASSERT_EQ(records.size(), 2u);
  expect_record(records[0], "apple", "AT b", 2, "");
  expect_record(records[1], "kiwi", "AT a", 1, "");
}

TEST(ChangeFold, GarbageLinesAreCountedAndSkipped) {
  const std::vector<std::string> garbage = {
      "P",                                   // missing fields
      "P 5",                                 //
      "P 5 kiwi",                            //
      "E 5",                                 //
      "E",                                   //
      "",                                    // a blank line
      "P x5 kiwi @ AT a",                    // non-numeric seq
      "P 5x kiwi @ AT a",                    //
      "P -5 kiwi @ AT a",                    //
      "P  5 kiwi @ AT a",                    // empty seq field
      "E seven kiwi",                        //
      "P 18446744073709551616 kiwi @ AT a",  // above UINT64_MAX
      "X 5 kiwi @ AT a",                     // unknown kind
      "p 5 kiwi @ AT a",                     //
      "PUT 5 kiwi @ AT a",                   //
      "P 5 kiwi AT a",                       // P without @
      "P 5 kiwi Juzang AT a",                //
      "P 5 kiwi @Juzang",                    // P without an AT line
      "P 5 kiwi @Juzang ",                   //
      "P 5 kiwi @",                          //
      "P 5  @ AT a",                         // empty client
      "E 5 kiwi extra",                      // E with more than a client
  };
  for (const auto& line : garbage) {
    ChangeFold fold;
    EXPECT_EQ(fold.add(line + "\n"), 1u) << '"' << line << '"';
    EXPECT_TRUE(std::move(fold).records().empty()) << '"' << line << '"';
  }

  // Among good lines: those load, each bad one counts once.
  std::string row = "P 1 apple @ AT a\n";
  for (const auto& line : garbage) row += line + "\n";
  row += "P 2 pear @Juzang AT b\n";
  ChangeFold fold;
  EXPECT_EQ(fold.add(row), garbage.size());
  const auto records = sorted(std::move(fold).records());
  ASSERT_EQ(records.size(), 2u);
  expect_record(records[0], "apple", "AT a", 1, "");
  expect_record(records[1], "pear", "AT b", 2, "Juzang");
}

TEST(ChangeFold, GarbageEraseRemovesNothing) {
  ChangeFold fold;
  EXPECT_EQ(fold.add("P 1 kiwi @ AT a\nE 9 kiwi extra\nE x kiwi\n"), 2u);
  const auto records = std::move(fold).records();
  ASSERT_EQ(records.size(), 1u);
  expect_record(records[0], "kiwi", "AT a", 1, "");
}

TEST(ChangeFold, EmptyRowAddsNothing) {
  ChangeFold fold;
  EXPECT_EQ(fold.add(""), 0u);
  EXPECT_TRUE(std::move(fold).records().empty());

  ChangeFold other;
  EXPECT_EQ(other.add("P 1 kiwi @ AT a\n"), 0u);
  EXPECT_EQ(other.add(""), 0u);
  const auto records = std::move(other).records();
  ASSERT_EQ(records.size(), 1u);
  expect_record(records[0], "kiwi", "AT a", 1, "");
}

}  // namespace
}  // namespace herd::store
