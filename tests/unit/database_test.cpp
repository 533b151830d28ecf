#include "store/database.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "store/checkpointer.hpp"
#include "store/file_set.hpp"
#include "store_test_support.hpp"

namespace herd::store {
namespace {

using testing::expect_cursor;
using testing::expect_record;
using testing::put_lsn;
using testing::sorted;

namespace fs = std::filesystem;

constexpr std::uint64_t kBigLsn = 0xF000000000000001ull;  // above INT64_MAX
constexpr std::uint64_t kLsn = (7ull << 40) + 5;

// Changes handed to write() carry strictly increasing seqs, across calls too (the journal
// sees to it), and a put's LSN is its seq: Change::put() makes the LSN the seq. put_lsn()
// (store_test_support.hpp) is for the tests that want another LSN.
StoredRecord record(const std::string& client, const std::string& at_line, std::uint64_t lsn,
                    const std::string& source = "") {
  return StoredRecord{client, at_line, lsn, source};
}

bool is_store_id(const std::string& id) {
  return std::regex_match(id, std::regex("[0-9a-f]{16}"));
}

void expect_same(const std::vector<StoredRecord>& actual,
                 const std::vector<StoredRecord>& expected) {
  const auto a = sorted(actual);
  const auto e = sorted(expected);
  ASSERT_EQ(a.size(), e.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    expect_record(a[i], e[i].client, e[i].at_line, e[i].lsn, e[i].source);
  }
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `sql` on `file` with a connection of the test's own, for files Database would not make.
void run_sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(file.c_str(), &db));
  EXPECT_EQ(SQLITE_OK, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr))
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// The rows of a table of ours, as key (seq or id) and data, in key order; with a connection
// of the test's own, so only while no Database has the file open.
struct Row {
  std::int64_t key = 0;
  std::string data;
  int type = 0;  // of data: SQLITE_BLOB, SQLITE_TEXT, ...
};
std::vector<Row> rows(const fs::path& file, const std::string& table) {
  sqlite3* db = nullptr;
  std::vector<Row> found;
  EXPECT_EQ(SQLITE_OK, sqlite3_open(file.c_str(), &db));
  const std::string key = table == "log" ? "seq" : "id";
  const std::string sql = "SELECT " + key + ", data FROM " + table + " ORDER BY " + key;
  sqlite3_stmt* query = nullptr;
  EXPECT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, sql.c_str(), -1, &query, nullptr))
      << sqlite3_errmsg(db);
  while (sqlite3_step(query) == SQLITE_ROW) {
    Row row;
    row.key = sqlite3_column_int64(query, 0);
    row.type = sqlite3_column_type(query, 1);
    const auto* data = static_cast<const char*>(sqlite3_column_blob(query, 1));
    row.data.assign(data == nullptr ? "" : data,
                    static_cast<std::size_t>(sqlite3_column_bytes(query, 1)));
    found.push_back(std::move(row));
  }
  sqlite3_finalize(query);
  sqlite3_close(db);
  return found;
}

// Adds a row to `table` ("log" or "snapshot") by hand, as a blob holding `data`.
void insert_row(const fs::path& file, const std::string& table, std::int64_t key,
                const std::string& data) {
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(file.c_str(), &db));
  sqlite3_stmt* insert = nullptr;
  const std::string sql = "INSERT INTO " + table + " VALUES(?, ?)";
  EXPECT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, sql.c_str(), -1, &insert, nullptr))
      << sqlite3_errmsg(db);
  sqlite3_bind_int64(insert, 1, key);
  sqlite3_bind_blob64(insert, 2, data.data(), data.size(), SQLITE_TRANSIENT);
  EXPECT_EQ(SQLITE_DONE, sqlite3_step(insert)) << sqlite3_errmsg(db);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

class DatabaseTest : public testing::DataFileTest {
 protected:
  // Generation `number`'s file, beside the anchor.
  fs::path generation(int number) const { return file_.string() + "." + std::to_string(number); }

  // A whole snapshot, as the journal takes one: a new generation, the store as it stands
  // written into it in `pieces`, then the older generations deleted.
  static void snapshot(Database& database, const std::vector<std::vector<StoredRecord>>& pieces) {
    database.prepare_snapshot();
    database.begin_snapshot();
    for (const auto& piece : pieces) database.write_snapshot(piece);
    database.finish_snapshot();
  }

  void write(const ChangeBatch& batch, Sync sync = Sync::kWritten) {
    Contents contents;
    Database database(file_, sync, contents);
    database.write(batch);
  }

  // Enough records for a file of many pages.
  void write_many(int count) {
    ChangeBatch batch;
    for (int i = 0; i < count; ++i) {
      const std::string client = "client-" + std::to_string(i);
      batch.add(Change::put(
          static_cast<std::uint64_t>(i) + 1, client,
          "AT Clark +0.000000000 " + client + " +34.068930-118.445127 1621464827.959498503"));
    }
    write(batch);
  }
};

TEST_F(DatabaseTest, NewFileStartsAtBootOneWithAStoreId) {
  const Contents contents = open();
  EXPECT_TRUE(fs::exists(file_));
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_TRUE(is_store_id(contents.store_id)) << contents.store_id;
  EXPECT_TRUE(contents.records.empty());
  EXPECT_TRUE(contents.cursors.empty());
  EXPECT_EQ(contents.report, "data file " + file_.string() + " did not exist; created it, empty");
}

TEST_F(DatabaseTest, ReopeningKeepsTheStoreIdAndCountsBoots) {
  const Contents first = open();
  const Contents second = open();
  const Contents third = open();
  EXPECT_EQ(second.store_id, first.store_id);
  EXPECT_EQ(third.store_id, first.store_id);
  EXPECT_EQ(second.boot, 2u);
  EXPECT_EQ(third.boot, 3u);
  EXPECT_EQ(third.report, "data file " + file_.string() +
                              ": 0 records and 0 neighbour cursors, store " + first.store_id +
                              ", boot 3");
}

TEST_F(DatabaseTest, TwoNewFilesHaveDifferentStoreIds) {
  const Contents first = open();
  file_ = dir_ / "data" / "Bernard.db";
  const Contents second = open();
  EXPECT_NE(first.store_id, second.store_id);
}

TEST_F(DatabaseTest, RecordsAndCursorsComeBackExactly) {
  // "apple" and "zero" have LSNs other than their seqs, to see the extremes come back: the
  // LSN is text inside the log row, while the row's key (the greatest seq of the batch)
  // stays below INT64_MAX as in real use.
  write({Change::put(kLsn, "kiwi.cs.ucla.edu", "AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5"),
         put_lsn(kLsn + 1, kBigLsn, "apple", "AT Juzang +0.2 apple +1+2 3", "Juzang"),
         put_lsn(kLsn + 2, 0, "zero", "AT Bernard +0 zero +0+0 0", "Bernard"),
         Change::cursor(kLsn + 3, "Juzang", "0123456789abcdef", kBigLsn),
         Change::cursor(kLsn + 4, "Jaquez", "fedcba9876543210", kLsn)});
  const Contents contents = open();
  const auto records = sorted(contents.records);
  ASSERT_EQ(records.size(), 3u);
  expect_record(records[0], "apple", "AT Juzang +0.2 apple +1+2 3", kBigLsn, "Juzang");
  expect_record(records[1], "kiwi.cs.ucla.edu", "AT Clark +0.1 kiwi.cs.ucla.edu +34-118 1.5", kLsn,
                "");
  expect_record(records[2], "zero", "AT Bernard +0 zero +0+0 0", 0, "Bernard");

  auto cursors = contents.cursors;
  std::sort(cursors.begin(), cursors.end(),
            [](const StoredCursor& a, const StoredCursor& b) { return a.neighbour < b.neighbour; });
  ASSERT_EQ(cursors.size(), 2u);
  expect_cursor(cursors[0], "Jaquez", "fedcba9876543210", kLsn);
  expect_cursor(cursors[1], "Juzang", "0123456789abcdef", kBigLsn);

  EXPECT_NE(contents.report.find(": 3 records and 2 neighbour cursors, store "), std::string::npos)
      << contents.report;
  EXPECT_EQ(contents.unreadable, 0u);
  EXPECT_EQ(contents.logged_changes, 3u);
}

TEST_F(DatabaseTest, EachBatchIsOneLogRowKeyedByItsGreatestSeq) {
  write({Change::put(3, "kiwi", "AT Clark +0.1 kiwi +34-118 1.5"), Change::erase(4, "apple"),
         put_lsn(5, kBigLsn, "pear", "AT Juzang +0.2 pear +1+2 3", "Juzang"),
         Change::cursor(6, "Juzang", "0123456789abcdef", 9)});
  write({Change::cursor(7, "Jaquez", "fedcba9876543210", 1)});  // no record change: no row
  write({Change::erase(8, "kiwi")});
  const auto log = rows(generation(1), "log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].key, 6);
  EXPECT_EQ(log[0].type, SQLITE_BLOB);
  EXPECT_EQ(log[0].data,
            "P 3 kiwi @ AT Clark +0.1 kiwi +34-118 1.5\n"
            "E 4 apple\n"
            "P 17293822569102704641 pear @Juzang AT Juzang +0.2 pear +1+2 3\n");
  EXPECT_EQ(log[1].key, 8);
  EXPECT_EQ(log[1].data, "E 8 kiwi\n");
  EXPECT_TRUE(rows(generation(1), "snapshot").empty());

  const Contents contents = open();
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0].client, "pear");
  EXPECT_EQ(contents.records[0].lsn, kBigLsn);
  EXPECT_EQ(contents.cursors.size(), 2u);
}

TEST_F(DatabaseTest, ReusedSeqThrowsAndWritesNothing) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(5, "kiwi", "AT a")});
    // The greatest seq is the log row's key: a batch whose greatest seq was written before
    // is refused, and none of it (the cursor neither) is kept. The database stays usable.
    EXPECT_THROW(database.write(ChangeBatch{Change::put(5, "apple", "AT b"),
                                            Change::cursor(5, "Juzang", "0123456789abcdef", 1)}),
                 StoreError);
    database.write(ChangeBatch{Change::put(6, "pear", "AT c")});
  }
  const Contents contents = open();
  const auto records = sorted(contents.records);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].client, "kiwi");
  EXPECT_EQ(records[1].client, "pear");
  EXPECT_TRUE(contents.cursors.empty());
}

TEST_F(DatabaseTest, PutReplacesAnEarlierPut) {
  write({Change::put(1, "kiwi", "AT Clark old", "")});
  write({Change::put(2, "kiwi", "AT Juzang new", "Juzang")});
  const Contents contents = open();
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0].at_line, "AT Juzang new");
  EXPECT_EQ(contents.records[0].lsn, 2u);
  EXPECT_EQ(contents.records[0].source, "Juzang");
}

TEST_F(DatabaseTest, CursorReplacesAnEarlierCursor) {
  write({Change::cursor(1, "Juzang", "0123456789abcdef", 5)});
  write({Change::cursor(2, "Juzang", "1111111111111111", 1)});
  const Contents contents = open();
  ASSERT_EQ(contents.cursors.size(), 1u);
  EXPECT_EQ(contents.cursors[0].store_id, "1111111111111111");
  EXPECT_EQ(contents.cursors[0].lsn, 1u);
}

TEST_F(DatabaseTest, EraseRemoves) {
  write({Change::put(1, "kiwi", "AT a"), Change::put(2, "apple", "AT b")});
  write({Change::erase(3, "kiwi"), Change::erase(4, "never-there")});
  const Contents contents = open();
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0].client, "apple");
}

TEST_F(DatabaseTest, ChangesApplyInOrder) {
  write({Change::put(1, "kiwi", "AT a"), Change::erase(2, "kiwi"), Change::erase(3, "apple"),
         Change::put(4, "apple", "AT b"), Change::put(5, "pear", "AT c"),
         Change::put(6, "pear", "AT d")});
  const auto records = sorted(open().records);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].client, "apple");
  EXPECT_EQ(records[0].at_line, "AT b");
  EXPECT_EQ(records[1].client, "pear");
  EXPECT_EQ(records[1].at_line, "AT d");
  EXPECT_EQ(records[1].lsn, 6u);
}

TEST_F(DatabaseTest, EmptyBatchChangesNothing) {
  write({Change::put(1, "kiwi", "AT a")});
  write({});
  EXPECT_EQ(open().records.size(), 1u);
  EXPECT_EQ(rows(generation(1), "log").size(), 1u);
}

TEST_F(DatabaseTest, ManyBatchesOnOneOpenDatabase) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(database.file(), file_);
    for (std::uint64_t i = 0; i < 100; ++i) {
      const ChangeBatch batch = {
          Change::put(i + 1, "client" + std::to_string(i % 10), "AT " + std::to_string(i))};
      database.write(batch);
    }
  }
  EXPECT_EQ(rows(generation(1), "log").size(), 100u);
  const Contents contents = open();
  EXPECT_EQ(contents.logged_changes, 100u);
  const auto records = sorted(contents.records);
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[0].at_line, "AT 90");
  EXPECT_EQ(records[0].lsn, 91u);
  EXPECT_EQ(records[9].at_line, "AT 99");
  EXPECT_EQ(records[9].lsn, 100u);
}

// SQLite would checkpoint inside the commit that crosses its threshold; here the file
// only says when one is due, and copies the WAL into the file when asked.
TEST_F(DatabaseTest, CheckpointsHappenOnlyWhenAskedFor) {
  Contents contents;
  Database database(file_, Sync::kWritten, contents);
  const auto size_at_start = fs::file_size(generation(1));
  const std::string line(1 << 20, 'x');
  std::uint64_t seq = 0;
  while (!database.checkpoint_due()) {
    ASSERT_LT(seq, 100u) << "no checkpoint due after 100 MiB";
    ++seq;
    database.write(ChangeBatch{Change::put(seq, "client" + std::to_string(seq), line)});
  }
  EXPECT_GE(seq, Database::kCheckpointBytes / line.size() - 2);  // not long before the threshold
  EXPECT_EQ(fs::file_size(generation(1)), size_at_start);

  ASSERT_TRUE(database.checkpoint());
  EXPECT_FALSE(database.checkpoint_due());
  EXPECT_GT(fs::file_size(generation(1)), seq * line.size());
  // The WAL starts again from its beginning, cut back to the threshold's size.
  database.write(ChangeBatch{Change::put(seq + 1, "one more", "AT 1")});
  EXPECT_LE(fs::file_size(generation(1).string() + "-wal"), Database::kCheckpointBytes);
  EXPECT_FALSE(database.checkpoint_due());
}

// Checkpoints have a connection of their own: a write returns while a checkpoint of 40 MiB
// is still copying and syncing, where with one connection it would wait for the end.
TEST_F(DatabaseTest, WritesGoOnWhileACheckpointRuns) {
  const std::string line(1 << 20, 'x');
  std::uint64_t seq = 0;
  bool overlapped = false;
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    const auto write_one = [&] {
      ++seq;
      database.write(ChangeBatch{Change::put(seq, "client" + std::to_string(seq), line)});
    };
    // A try whose checkpoint ended before its write began proves nothing either way; a
    // few tries make that unlikely enough.
    for (int attempt = 0; attempt < 5 && !overlapped; ++attempt) {
      while (!database.checkpoint_due()) write_one();
      std::atomic<bool> started = false;
      std::atomic<bool> finished = false;
      std::thread checkpointer([&] {
        started = true;
        while (!database.checkpoint()) {
        }
        finished = true;
      });
      while (!started) std::this_thread::yield();
      write_one();
      overlapped = !finished;
      checkpointer.join();
    }
  }
  EXPECT_TRUE(overlapped) << "every write waited for the checkpoint";
  EXPECT_EQ(open().records.size(), seq);
}

// A passive checkpoint that reads the WAL's index while a commit rewrites it gets
// SQLITE_BUSY, which back-to-back commits make likely: the checkpointer tries again rather
// than report a failure, and gets through.
TEST_F(DatabaseTest, TheCheckpointerGetsThroughBackToBackCommits) {
  Contents contents;
  Database database(file_, Sync::kWritten, contents);
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  const auto size_at_start = fs::file_size(generation(1));
  {
    Checkpointer checkpointer(database, [&](const std::string& message) {
      const std::lock_guard lock(failures_mutex);
      failures.push_back(message);
    });
    const std::string line(100, 'x');
    std::uint64_t seq = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // Written without a pause until the file has taken in a checkpoint's worth.
    while (fs::file_size(generation(1)) < size_at_start + Database::kCheckpointBytes / 2 &&
           std::chrono::steady_clock::now() < deadline) {
      ++seq;
      database.write(ChangeBatch{Change::put(seq, "client" + std::to_string(seq % 1000), line)});
      if (database.checkpoint_due()) checkpointer.request();
    }
  }
  EXPECT_GE(fs::file_size(generation(1)), size_at_start + Database::kCheckpointBytes / 2);
  EXPECT_TRUE(failures.empty()) << failures.front();
}

TEST_F(DatabaseTest, SyncedModeWrites) {
  {
    Contents contents;
    Database database(file_, Sync::kSynced, contents);
    EXPECT_EQ(contents.boot, 1u);
    // An LSN other than the seq, above INT64_MAX.
    const ChangeBatch batch = {put_lsn(1, kBigLsn, "kiwi", "AT a"),
                               Change::cursor(2, "Bernard", "0123456789abcdef", 9)};
    database.write(batch);
  }
  const Contents contents = open(Sync::kSynced);
  EXPECT_EQ(contents.boot, 2u);
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0].lsn, kBigLsn);
  EXPECT_EQ(contents.cursors.size(), 1u);
}

TEST_F(DatabaseTest, MissingDirectoriesAreCreated) {
  file_ = dir_ / "a" / "b" / "c" / "Clark.db";
  const Contents contents = open();
  EXPECT_TRUE(fs::is_regular_file(file_));
  EXPECT_EQ(contents.boot, 1u);
}

TEST_F(DatabaseTest, FileInTheCurrentDirectory) {
  const fs::path before = fs::current_path();
  fs::current_path(dir_);
  file_ = "Clark.db";
  const Contents first = open();
  const Contents second = open();
  fs::current_path(before);
  EXPECT_EQ(second.store_id, first.store_id);
  EXPECT_TRUE(fs::exists(dir_ / "Clark.db"));
}

TEST_F(DatabaseTest, GarbageFileIsMovedAsideAndReplaced) {
  fs::create_directories(file_.parent_path());
  std::string garbage;
  for (int i = 0; i < 1000; ++i) garbage += "this is not a database\n";
  write_file(file_, garbage);

  const Contents contents = open();
  const fs::path moved = file_.string() + ".damaged-1";
  EXPECT_EQ(read_file(moved), garbage);
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_TRUE(is_store_id(contents.store_id));
  EXPECT_TRUE(contents.records.empty());
  EXPECT_NE(contents.report.find("damaged"), std::string::npos) << contents.report;
  EXPECT_NE(contents.report.find(moved.string()), std::string::npos) << contents.report;
  EXPECT_EQ(contents.report.rfind("data file " + file_.string() + " is damaged (", 0), 0u)
      << contents.report;

  // The new file is a good one.
  const Contents again = open();
  EXPECT_EQ(again.store_id, contents.store_id);
  EXPECT_EQ(again.boot, 2u);
}

TEST_F(DatabaseTest, SecondDamagedFileTakesTheNextNumber) {
  fs::create_directories(file_.parent_path());
  write_file(file_, "first garbage, long enough to be taken for a header? no.");
  open();
  write_file(file_, "second garbage");
  const Contents contents = open();
  EXPECT_EQ(read_file(file_.string() + ".damaged-1"),
            "first garbage, long enough to be taken for a header? no.");
  EXPECT_EQ(read_file(file_.string() + ".damaged-2"), "second garbage");
  EXPECT_NE(contents.report.find(file_.string() + ".damaged-2"), std::string::npos)
      << contents.report;
}

TEST_F(DatabaseTest, NumberTakenOnlyByASiblingIsSkipped) {
  fs::create_directories(file_.parent_path());
  write_file(file_.string() + ".damaged-1-wal", "");
  write_file(file_, "garbage");
  open();
  EXPECT_EQ(read_file(file_.string() + ".damaged-2"), "garbage");
}

TEST_F(DatabaseTest, DamagedFilesSiblingsMoveWithItUntouched) {
  fs::create_directories(file_.parent_path());
  // Shorter than a page, and longer: SQLite treats the two differently.
  for (const std::size_t length : {std::size_t{7}, std::size_t{10000}}) {
    const std::string garbage(length, 'g');
    write_file(file_, garbage);
    write_file(file_.string() + "-wal", "wal garbage");
    write_file(file_.string() + "-shm", "shm garbage");
    const Contents contents = open();
    EXPECT_EQ(contents.boot, 1u);
    EXPECT_NE(contents.report.find("damaged"), std::string::npos) << contents.report;
    const std::string moved = file_.string() + (length == 7 ? ".damaged-1" : ".damaged-2");
    EXPECT_EQ(read_file(moved), garbage);
    EXPECT_EQ(read_file(moved + "-wal"), "wal garbage");
    // The -shm is SQLite's scratch index of the WAL, rewritten by any open; it moves, but
    // need not keep what it held.
    EXPECT_TRUE(fs::exists(moved + "-shm"));
  }
}

TEST_F(DatabaseTest, LeftoverSiblingsOfAMissingFileAreMovedAside) {
  fs::create_directories(file_.parent_path());
  write_file(file_.string() + "-wal", "wal garbage");
  const Contents contents = open();
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_EQ(read_file(file_.string() + ".damaged-1-wal"), "wal garbage");
  EXPECT_NE(contents.report.find("did not exist; created it, empty"), std::string::npos)
      << contents.report;
  EXPECT_NE(contents.report.find(".damaged-1-wal"), std::string::npos) << contents.report;
  EXPECT_EQ(open().boot, 2u);
}

TEST_F(DatabaseTest, LeftoverSiblingsOfAZeroLengthFileAreMovedAside) {
  fs::create_directories(file_.parent_path());
  write_file(file_, "");
  write_file(file_.string() + "-wal", "wal garbage");
  const Contents contents = open();
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_EQ(read_file(file_.string() + ".damaged-1-wal"), "wal garbage");
  EXPECT_NE(contents.report.find(".damaged-1-wal"), std::string::npos) << contents.report;
}

TEST_F(DatabaseTest, ZeroLengthFileStartsEmpty) {
  fs::create_directories(file_.parent_path());
  write_file(file_, "");
  const Contents contents = open();
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_TRUE(is_store_id(contents.store_id));
  EXPECT_NE(contents.report.find("empty"), std::string::npos) << contents.report;
  EXPECT_EQ(contents.report.find("damaged"), std::string::npos) << contents.report;
  EXPECT_FALSE(fs::exists(file_.string() + ".damaged-1"));
  EXPECT_EQ(open().boot, 2u);
}

TEST_F(DatabaseTest, SomeoneElsesDatabaseIsDamaged) {
  fs::create_directories(file_.parent_path());
  run_sql(file_, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  const Contents contents = open();
  EXPECT_NE(contents.report.find("damaged (no such table: meta)"), std::string::npos)
      << contents.report;
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-1"));
}

TEST_F(DatabaseTest, BadMetaIsDamaged) {
  const std::string id = open().store_id;
  // '1' is the old layout, one row a record: not to be read as this one.
  run_sql(file_, "UPDATE meta SET value = '1' WHERE key = 'format'");
  Contents contents = open();
  EXPECT_NE(contents.report.find("damaged (format '1', not '3')"), std::string::npos)
      << contents.report;
  EXPECT_NE(contents.store_id, id);

  run_sql(file_, "UPDATE meta SET value = 'ABCDEF0123456789' WHERE key = 'store_id'");
  contents = open();
  EXPECT_NE(contents.report.find("damaged (malformed store id"), std::string::npos)
      << contents.report;

  run_sql(file_, "DELETE FROM meta WHERE key = 'boot'");
  contents = open();
  EXPECT_NE(contents.report.find("damaged (no boot count"), std::string::npos) << contents.report;
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-3"));
}

// The records are in the generation's file, not the anchor: damage there moves the whole
// store aside, as the anchor names a generation it no longer has.
TEST_F(DatabaseTest, TruncatedGenerationMovesTheStoreAside) {
  write_many(2000);
  std::error_code ignored;
  fs::remove(generation(1).string() + "-wal", ignored);
  const auto size = fs::file_size(generation(1));
  ASSERT_GT(size, 8192u);
  fs::resize_file(generation(1), size / 2);

  Contents contents;
  ASSERT_NO_THROW(contents = open());
  // Half of the file's pages are gone: SQLite finds the file malformed, and it is moved
  // aside for the operator rather than half read.
  EXPECT_NE(contents.report.find("is damaged (" + generation(1).string() +
                                 ": database disk image is malformed); moved it to " +
                                 file_.string() + ".damaged-1 with the files beside it"),
            std::string::npos)
      << contents.report;
  EXPECT_TRUE(contents.records.empty());
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-1"));
  EXPECT_EQ(fs::file_size(file_.string() + ".damaged-1.1"), size / 2);
  // The new store's first generation takes the number again.
  EXPECT_TRUE(fs::exists(generation(1)));
  EXPECT_EQ(open().boot, 2u);
}

TEST_F(DatabaseTest, CorruptPageIsDamaged) {
  write_many(2000);
  // Scribbles over every page but the first, keeping the file's length.
  for (const fs::path& file : {file_, generation(1)}) {
    SCOPED_TRACE(file.string());
    fs::remove_all(file_.parent_path());
    write_many(2000);
    std::string bytes = read_file(file);
    ASSERT_GE(bytes.size(), 8192u);
    for (std::size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
    write_file(file, bytes);

    Contents contents;
    ASSERT_NO_THROW(contents = open());
    EXPECT_NE(contents.report.find("damaged"), std::string::npos) << contents.report;
    EXPECT_TRUE(contents.records.empty());
  }
}

TEST_F(DatabaseTest, DirectoryThatCannotBeMadeThrows) {
  const fs::path blocker = dir_ / "blocker";
  write_file(blocker, "a regular file");
  file_ = blocker / "sub" / "Clark.db";
  try {
    open();
    FAIL() << "no StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find((blocker / "sub").string()), std::string::npos)
        << e.what();
  }
}

// A directory that cannot be read is not one without generations: the store would be taken
// for damaged. Root reads any directory, so a child process that gives up root lists it.
TEST_F(DatabaseTest, GenerationsOfADirectoryThatCannotBeReadAreNotNone) {
  const fs::path locked = dir_ / "locked";
  fs::create_directories(locked);
  fs::permissions(locked, fs::perms::none);
  const std::string expected = "cannot list directory " + locked.string() + ": Permission denied";
  constexpr uid_t kNobody = 65534;
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // Root's supplementary groups go too, or the child would keep group 0's access.
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
      ::_exit(3);
    }
    try {
      generation_numbers(locked / "Clark.db");
    } catch (const StoreError& e) {
      ::_exit(std::string(e.what()) == expected ? 0 : 2);
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  fs::permissions(locked, fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: no StoreError; 2: not \"" << expected << "\"; 3: could not give up root";

  // Nor is a directory that is not there.
  const fs::path missing = dir_ / "missing";
  try {
    generation_numbers(missing / "Clark.db");
    FAIL() << "no StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot list directory " + missing.string()),
              std::string::npos)
        << e.what();
  }
}

TEST_F(DatabaseTest, DataFileThatIsADirectoryThrowsAndIsLeftAlone) {
  fs::create_directories(file_);
  try {
    open();
    FAIL() << "no StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(file_.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(file_));
  EXPECT_FALSE(fs::exists(file_.string() + ".damaged-1"));
}

TEST_F(DatabaseTest, DataFileThatIsASymlinkToADirectoryThrowsAndIsLeftAlone) {
  fs::create_directories(file_.parent_path());
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directory_symlink(dir_ / "elsewhere", file_);
  EXPECT_THROW(open(), StoreError);
  EXPECT_TRUE(fs::is_symlink(file_));
  EXPECT_FALSE(fs::exists(file_.string() + ".damaged-1"));
}

TEST_F(DatabaseTest, FileLockedByAnotherWriterThrowsAndIsLeftAlone) {
  const std::string id = open().store_id;
  sqlite3* other = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(file_.c_str(), &other));
  ASSERT_EQ(SQLITE_OK, sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
  EXPECT_THROW(open(), StoreError);  // after the busy timeout
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_FALSE(fs::exists(file_.string() + ".damaged-1"));
  EXPECT_EQ(open().store_id, id);
}

TEST_F(DatabaseTest, SnapshotThenReopenGivesTheSameRecords) {
  const std::vector<StoredRecord> expected = {record("kiwi", "AT c", 4),
                                              record("pear", "AT d", 5, "Juzang")};
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "kiwi", "AT a"), Change::put(2, "apple", "AT b"),
                               Change::cursor(3, "Juzang", "0123456789abcdef", 9)});
    database.write(ChangeBatch{Change::put(4, "kiwi", "AT c"),
                               Change::put(5, "pear", "AT d", "Juzang"),
                               Change::erase(6, "apple")});
    // The store as of seq 6, in two pieces.
    snapshot(database, {{expected[0]}, {expected[1]}});
  }
  // The first generation went whole; the second holds the snapshot, and no row of changes.
  EXPECT_FALSE(fs::exists(generation(1)));
  EXPECT_FALSE(fs::exists(generation(1).string() + "-wal"));
  EXPECT_TRUE(rows(generation(2), "log").empty());
  const auto snapshot = rows(generation(2), "snapshot");
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot[0].type, SQLITE_BLOB);
  EXPECT_EQ(snapshot[0].data, "P 4 kiwi @ AT c\n");
  EXPECT_EQ(snapshot[1].data, "P 5 pear @Juzang AT d\n");

  const Contents contents = open();
  expect_same(contents.records, expected);
  ASSERT_EQ(contents.cursors.size(), 1u);
  EXPECT_EQ(contents.cursors[0].lsn, 9u);
  EXPECT_EQ(contents.logged_changes, 0u);
  EXPECT_EQ(contents.unreadable, 0u);
  EXPECT_NE(contents.report.find(": 2 records and 1 neighbour cursors, store "), std::string::npos)
      << contents.report;

  // And again, once more reopened: nothing is lost by reopening a snapshot.
  expect_same(open().records, expected);
}

TEST_F(DatabaseTest, BatchesAfterASnapshotBeginsGoToTheNewGeneration) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "a", "AT a1")});
    database.write(ChangeBatch{Change::put(2, "b", "AT b2")});
    database.write(ChangeBatch{Change::put(3, "a", "AT a3")});
    database.prepare_snapshot();
    database.begin_snapshot();  // the store as of seq 3
    database.write(ChangeBatch{Change::erase(4, "b"), Change::put(5, "c", "AT c5")});
    database.write_snapshot(std::vector<StoredRecord>{record("a", "AT a3", 3)});
    database.write(ChangeBatch{Change::put(6, "a", "AT a6")});
    database.finish_snapshot();
  }
  EXPECT_FALSE(fs::exists(generation(1)));
  const auto log = rows(generation(2), "log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].key, 5);
  EXPECT_EQ(log[1].key, 6);
  const std::vector<StoredRecord> expected = {record("a", "AT a6", 6), record("c", "AT c5", 5)};
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    expect_same(contents.records, expected);
    EXPECT_EQ(contents.logged_changes, 3u);
    EXPECT_EQ(database.logged_changes(), 3u);
    database.write(ChangeBatch{Change::put(7, "e", "AT e7")});
    snapshot(database, {expected});
  }
  EXPECT_FALSE(fs::exists(generation(2)));
  EXPECT_EQ(rows(generation(3), "snapshot").size(), 1u);
  EXPECT_TRUE(rows(generation(3), "log").empty());
  const Contents contents = open();
  expect_same(contents.records, expected);  // "e" came after the snapshot began
  EXPECT_EQ(contents.logged_changes, 0u);
}

// The cursors the old generations held go with them: the new one starts with them, and
// batches after begin_snapshot() move them there.
TEST_F(DatabaseTest, CursorsCarryOverToTheNewGeneration) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::cursor(1, "Juzang", "0123456789abcdef", 9),
                               Change::cursor(2, "Jaquez", "fedcba9876543210", 4)});
    database.prepare_snapshot();
    database.begin_snapshot();
    database.write(ChangeBatch{Change::cursor(3, "Jaquez", "fedcba9876543210", 7)});
    database.finish_snapshot();
  }
  auto cursors = open().cursors;
  std::sort(cursors.begin(), cursors.end(),
            [](const StoredCursor& a, const StoredCursor& b) { return a.neighbour < b.neighbour; });
  ASSERT_EQ(cursors.size(), 2u);
  expect_cursor(cursors[0], "Jaquez", "fedcba9876543210", 7);
  expect_cursor(cursors[1], "Juzang", "0123456789abcdef", 9);
}

// A client's former location, and an erased client's last one, go with the generation
// that held them, and so are in no file the store keeps.
TEST_F(DatabaseTest, WhatASnapshotReplacesGoesWithItsFile) {
  const std::string former = "AT Clark +0.1 kiwi +11.111111+22.222222 1621464827.5";
  const std::string latest = "AT Clark +0.1 kiwi +33.333333+44.444444 1621464828.5";
  const std::string erased = "AT Clark +0.1 pear +55.555555+66.666666 1621464827.5";
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "kiwi", former), Change::put(2, "pear", erased)});
    database.write(ChangeBatch{Change::put(3, "kiwi", latest), Change::erase(4, "pear")});
    snapshot(database, {{record("kiwi", latest, 3)}});
  }
  std::string kept;
  for (const auto& entry : fs::directory_iterator(file_.parent_path())) {
    kept += read_file(entry.path());
  }
  EXPECT_NE(kept.find(latest), std::string::npos);
  EXPECT_EQ(kept.find("+11.111111+22.222222"), std::string::npos);
  EXPECT_EQ(kept.find("+55.555555+66.666666"), std::string::npos);
}

TEST_F(DatabaseTest, EmptySnapshotReplacesEverything) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "kiwi", "AT a"), Change::put(2, "apple", "AT b")});
    snapshot(database, {{record("kiwi", "AT a", 1), record("apple", "AT b", 2)}});
    database.write(ChangeBatch{Change::erase(3, "kiwi")});
    database.write(ChangeBatch{Change::erase(4, "apple")});
    snapshot(database, {});  // the store is empty: a snapshot without a piece
  }
  EXPECT_TRUE(rows(generation(3), "log").empty());
  EXPECT_TRUE(rows(generation(3), "snapshot").empty());
  EXPECT_FALSE(fs::exists(generation(1)));
  EXPECT_FALSE(fs::exists(generation(2)));
  const Contents contents = open();
  EXPECT_TRUE(contents.records.empty());
  EXPECT_EQ(contents.logged_changes, 0u);
}

// A server killed at any point of a snapshot comes back with the same records and cursors:
// opening folds every live generation, whatever state the newest is in. The files are
// copied as they are at each step, with the Database open, as SIGKILL would leave them;
// then the same steps are stopped there and the Database closed, and the next snapshot
// replaces what the cut one left.
TEST_F(DatabaseTest, ACrashAtAnyStepOfASnapshotLosesNothing) {
  const std::vector<StoredRecord> expected = {record("b", "AT b5", 5, "Juzang"),
                                              record("c", "AT c3", 3), record("d", "AT d7", 7)};
  const auto expect_all = [&](const Contents& contents) {
    expect_same(contents.records, expected);
    ASSERT_EQ(contents.cursors.size(), 1u);
    expect_cursor(contents.cursors[0], "Juzang", "0123456789abcdef", 9);
    EXPECT_EQ(contents.unreadable, 0u);
    EXPECT_EQ(contents.report.find("damaged"), std::string::npos) << contents.report;
  };
  // Steps done before the "crash": prepare, begin, a first piece, a second, finish.
  for (int steps = 0; steps <= 5; ++steps) {
    SCOPED_TRACE("crash after " + std::to_string(steps) + " steps");
    fs::remove_all(file_.parent_path());
    {
      Contents contents;
      Database database(file_, Sync::kWritten, contents);
      database.write(ChangeBatch{Change::put(1, "a", "AT a1"), Change::put(2, "b", "AT b2"),
                                 Change::put(3, "c", "AT c3"),
                                 Change::cursor(4, "Juzang", "0123456789abcdef", 9)});
      database.write(ChangeBatch{Change::erase(5, "a"), Change::put(5, "b", "AT b5", "Juzang")});
      if (steps >= 1) database.prepare_snapshot();
      if (steps >= 2) database.begin_snapshot();
      database.write(ChangeBatch{Change::put(7, "d", "AT d7")});
      if (steps >= 3) database.write_snapshot(std::vector<StoredRecord>{expected[0]});
      if (steps >= 4) database.write_snapshot(std::vector<StoredRecord>{expected[1]});
      if (steps >= 5) database.finish_snapshot();
      expect_all(open_copy());
    }
    {
      Contents contents;
      Database database(file_, Sync::kWritten, contents);
      expect_all(contents);
      EXPECT_EQ(fs::exists(generation(1)), steps < 5);
      EXPECT_EQ(fs::exists(generation(2)), steps >= 1);
      database.write(ChangeBatch{Change::put(8, "c", "AT c8")});
      snapshot(database, {{expected[0], expected[2]}, {record("c", "AT c8", 8)}});
    }
    const Contents contents = open();
    expect_same(contents.records, {expected[0], record("c", "AT c8", 8), expected[2]});
    EXPECT_EQ(contents.logged_changes, 0u);
    ASSERT_EQ(contents.cursors.size(), 1u);
    std::size_t generations = 0;
    for (int number = 1; number <= 4; ++number) generations += fs::exists(generation(number));
    EXPECT_EQ(generations, 1u);
  }
}

TEST_F(DatabaseTest, AnAbandonedSnapshotsGenerationIsReplacedByTheNext) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "a", "AT a1")});
    database.prepare_snapshot();
    database.begin_snapshot();
    database.write(ChangeBatch{Change::put(2, "b", "AT b2")});
    // Abandoned: the next one starts again, with a generation of its own.
    snapshot(database, {{record("a", "AT a1", 1), record("b", "AT b2", 2)}});
    database.write(ChangeBatch{Change::put(3, "a", "AT a3")});
  }
  EXPECT_FALSE(fs::exists(generation(1)));
  EXPECT_FALSE(fs::exists(generation(2)));
  const Contents contents = open();
  expect_same(contents.records, {record("a", "AT a3", 3), record("b", "AT b2", 2)});
  EXPECT_EQ(contents.logged_changes, 1u);
}

TEST_F(DatabaseTest, AReplacedGenerationThatOutlivedACrashIsDeletedAtOpen) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "a", "AT a1")});
    snapshot(database, {{record("a", "AT a1", 1)}});
  }
  // As a crash between the anchor's naming generation 2 and the deletion leaves it.
  write_file(generation(1), "the old generation");
  write_file(generation(1).string() + "-wal", "its log");
  const Contents contents = open();
  EXPECT_FALSE(fs::exists(generation(1)));
  EXPECT_FALSE(fs::exists(generation(1).string() + "-wal"));
  expect_same(contents.records, {record("a", "AT a1", 1)});
  EXPECT_NE(contents.report.find(", boot 2 (deleted the replaced " + generation(1).string() + ")"),
            std::string::npos)
      << contents.report;
}

TEST_F(DatabaseTest, AMissingOrStrayGenerationIsDamage) {
  const std::string id = open().store_id;
  fs::rename(generation(1), dir_ / "elsewhere");
  Contents contents = open();
  EXPECT_NE(contents.report.find("is damaged (" + generation(1).string() + " is missing)"),
            std::string::npos)
      << contents.report;
  EXPECT_NE(contents.store_id, id);

  // A generation that no snapshot made: the store cannot say what else it lost.
  write_file(generation(3), "");
  contents = open();
  EXPECT_NE(contents.report.find("is damaged (" + generation(3).string() + " is not in sequence)"),
            std::string::npos)
      << contents.report;
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-2.3"));
  EXPECT_FALSE(fs::exists(generation(3)));
}

TEST_F(DatabaseTest, AnotherStoresGenerationIsDamage) {
  write({Change::put(1, "a", "AT a1")});
  fs::rename(generation(1), dir_ / "ours");
  const fs::path ours_anchor = dir_ / "anchor";
  fs::rename(file_, ours_anchor);
  open();  // a new store, whose generation 1 is then swapped for the other's
  fs::remove(generation(1));
  fs::rename(dir_ / "ours", generation(1));
  const Contents contents = open();
  EXPECT_NE(contents.report.find("is damaged (" + generation(1).string() + ": store id '"),
            std::string::npos)
      << contents.report;
  EXPECT_TRUE(contents.records.empty());
}

TEST_F(DatabaseTest, LeftoverGenerationsBesideAMissingAnchorAreMovedAside) {
  fs::create_directories(file_.parent_path());
  write_file(generation(1), "a generation");
  write_file(generation(1).string() + "-wal", "its log");
  const Contents contents = open();
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_EQ(read_file(file_.string() + ".damaged-1.1"), "a generation");
  EXPECT_EQ(read_file(file_.string() + ".damaged-1.1-wal"), "its log");
  EXPECT_NE(contents.report.find("did not exist; created it, empty (moved the leftover"),
            std::string::npos)
      << contents.report;
  EXPECT_EQ(open().boot, 2u);
}

// A crash while a generation's file was being made leaves it under another name, which the
// next attempt replaces.
TEST_F(DatabaseTest, AHalfMadeGenerationIsReplaced) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    database.write(ChangeBatch{Change::put(1, "a", "AT a1")});
  }
  write_file(generation(2).string() + ".new", "half made");
  write_file(generation(2).string() + ".new-journal", "its journal");
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    snapshot(database, {{record("a", "AT a1", 1)}});
  }
  EXPECT_FALSE(fs::exists(generation(2).string() + ".new"));
  EXPECT_FALSE(fs::exists(generation(2).string() + ".new-journal"));
  expect_same(open().records, {record("a", "AT a1", 1)});
}

// A data file written before generations (format 2: one file holding everything) is read,
// and becomes the anchor; its rows go with the first snapshot.
TEST_F(DatabaseTest, AFileFromBeforeGenerationsIsReadAndKept) {
  fs::create_directories(file_.parent_path());
  run_sql(file_,
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
          "CREATE TABLE log(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);"
          "CREATE TABLE snapshot(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
          "CREATE TABLE cursors(neighbour TEXT PRIMARY KEY, store_id TEXT NOT NULL,"
          " lsn INTEGER NOT NULL) WITHOUT ROWID;"
          "INSERT INTO meta VALUES('format', '2'), ('store_id', '0123456789abcdef'),"
          " ('boot', '4');"
          "INSERT INTO cursors VALUES('Juzang', 'fedcba9876543210', 9);");
  insert_row(file_, "snapshot", 1, "P 1 a @ AT a1\nP 2 b @ AT b2\n");
  insert_row(file_, "log", 3, "P 3 a @ AT a3\n");
  const std::vector<StoredRecord> expected = {record("a", "AT a3", 3), record("b", "AT b2", 2)};
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(contents.store_id, "0123456789abcdef");
    EXPECT_EQ(contents.boot, 5u);
    expect_same(contents.records, expected);
    ASSERT_EQ(contents.cursors.size(), 1u);
    EXPECT_EQ(contents.logged_changes, 1u);
    database.write(ChangeBatch{Change::put(4, "c", "AT c4")});
  }
  const std::vector<StoredRecord> with_c = {expected[0], expected[1], record("c", "AT c4", 4)};
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(contents.boot, 6u);
    expect_same(contents.records, with_c);
    snapshot(database, {with_c});
    // The drop's zeroed pages are not kept in the anchor's WAL while the server runs.
    EXPECT_EQ(fs::file_size(file_.string() + "-wal"), 0u);
  }
  EXPECT_FALSE(fs::exists(generation(1)));
  const Contents contents = open();
  expect_same(contents.records, with_c);
  ASSERT_EQ(contents.cursors.size(), 1u);
  EXPECT_EQ(contents.store_id, "0123456789abcdef");
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(file_.c_str(), &db));
  sqlite3_stmt* query = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, "SELECT group_concat(name) FROM sqlite_schema", -1,
                                          &query, nullptr));
  ASSERT_EQ(SQLITE_ROW, sqlite3_step(query));
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(query, 0)), "meta");
  sqlite3_finalize(query);
  sqlite3_close(db);
  // What the dropped tables held is gone from the anchor, not left in its free pages.
  EXPECT_EQ(read_file(file_).find("AT a1"), std::string::npos);
  EXPECT_EQ(read_file(file_).find("Juzang"), std::string::npos);
}

TEST_F(DatabaseTest, LoggedChangesCountsRecordChangesSinceTheLastSnapshot) {
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(contents.logged_changes, 0u);
    EXPECT_EQ(database.logged_changes(), 0u);
    database.write(ChangeBatch{Change::put(1, "kiwi", "AT a"), Change::erase(2, "apple"),
                               Change::cursor(3, "Juzang", "0123456789abcdef", 1)});
    database.write(ChangeBatch{Change::cursor(4, "Juzang", "0123456789abcdef", 2)});
    database.write(ChangeBatch{Change::put(5, "pear", "AT b"), Change::put(6, "pear", "AT c")});
  }
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(contents.logged_changes, 4u);  // the cursors are not record changes
    EXPECT_EQ(database.logged_changes(), 4u);
    snapshot(database, {{record("kiwi", "AT a", 1), record("pear", "AT c", 6)}});
  }
  EXPECT_EQ(open().logged_changes, 0u);
  write({Change::put(7, "kiwi", "AT d"), Change::erase(8, "pear")});
  const Contents contents = open();
  EXPECT_EQ(contents.logged_changes, 2u);
  expect_same(contents.records, {record("kiwi", "AT d", 7)});
}

TEST_F(DatabaseTest, UnreadableLinesAreSkippedAndCounted) {
  write({Change::put(1, "kiwi", "AT a"), Change::put(2, "apple", "AT b")});
  insert_row(generation(1), "log", 5,
             "P 3 pear @ AT c\n"
             "this is garbage\n"
             "E x kiwi\n"
             "P 5 plum @Juzang AT d\n");
  insert_row(generation(1), "snapshot", 1, "P 0 fig @ AT e\nP 1\n");
  Contents contents = open();
  const std::vector<StoredRecord> expected = {
      record("kiwi", "AT a", 1), record("apple", "AT b", 2), record("pear", "AT c", 3),
      record("plum", "AT d", 5, "Juzang"), record("fig", "AT e", 0)};
  expect_same(contents.records, expected);
  EXPECT_EQ(contents.unreadable, 3u);
  EXPECT_EQ(contents.report.find("damaged"), std::string::npos) << contents.report;
  EXPECT_NE(contents.report.find(": 5 records (3 unreadable lines skipped) and 0 neighbour "
                                 "cursors, store "),
            std::string::npos)
      << contents.report;
  EXPECT_FALSE(fs::exists(file_.string() + ".damaged-1"));

  // They stay until a snapshot replaces the generation that holds them.
  {
    Database database(file_, Sync::kWritten, contents);
    EXPECT_EQ(contents.unreadable, 3u);
    snapshot(database, {contents.records});
  }
  contents = open();
  expect_same(contents.records, expected);
  EXPECT_EQ(contents.unreadable, 0u);
  EXPECT_EQ(contents.report.find("unreadable"), std::string::npos) << contents.report;
}

TEST_F(DatabaseTest, RowThatIsNotABlobIsDamaged) {
  write({Change::put(1, "kiwi", "AT a")});
  run_sql(generation(1), "INSERT INTO log(seq, data) VALUES(2, 'P 2 apple @ AT b')");
  Contents contents = open();
  EXPECT_NE(
      contents.report.find("damaged (" + generation(1).string() + ": a log row is not a blob)"),
      std::string::npos)
      << contents.report;
  EXPECT_TRUE(contents.records.empty());
  EXPECT_EQ(contents.boot, 1u);
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-1"));
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-1.1"));

  write({Change::put(1, "kiwi", "AT a")});
  run_sql(generation(1), "INSERT INTO snapshot(id, data) VALUES(1, 42)");
  contents = open();
  EXPECT_NE(contents.report.find(": a snapshot row is not a blob)"), std::string::npos)
      << contents.report;
  EXPECT_TRUE(contents.records.empty());
  EXPECT_TRUE(fs::exists(file_.string() + ".damaged-2.1"));
}

}  // namespace
}  // namespace herd::store
