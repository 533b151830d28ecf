#include "store/journal.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "manual_loop.hpp"
#include "store/database.hpp"
#include "store_test_support.hpp"

namespace herd::store {
namespace {

using namespace std::chrono_literals;
using testing::CommitReports;
using testing::expect_cursor;
using testing::ReleaseAtEnd;

constexpr const char* kId1 = "0123456789abcdef";
constexpr const char* kId2 = "fedcba9876543210";
constexpr const char* kId3 = "00000000ffffffff";

std::string line_for(const std::string& client, std::uint64_t seq) {
  return "AT Clark +0.000000000 " + client + " +1-2 " + std::to_string(seq);
}

// A Change only views its strings: the line must outlive the append.
void append_put(Journal& journal, const std::string& client, std::uint64_t seq) {
  const std::string line = line_for(client, seq);
  journal.append(Change::put(seq, client, line));
}

bool strictly_increasing(const std::vector<std::uint64_t>& seqs) {
  return std::adjacent_find(seqs.begin(), seqs.end(),
                            [](std::uint64_t a, std::uint64_t b) { return a >= b; }) == seqs.end();
}

// ---- Without a database ----

TEST(MemoryJournal, CommitsOnAppend) {
  CommitReports reports;
  Journal journal(nullptr, 0, reports.on_commit(), reports.on_failure());
  EXPECT_EQ(journal.committed(), 0u);
  append_put(journal, "kiwi", 5);
  EXPECT_EQ(journal.committed(), 5u);
  EXPECT_EQ(reports.commits(), std::vector<std::uint64_t>{5});
  // Cursors commit at once too.
  journal.append(Change::cursor(6, "Juzang", kId1, 3));
  EXPECT_EQ(journal.committed(), 6u);
  journal.append(Change::cursor(7, "Juzang", kId1, 4));
  journal.append(Change::erase(9, "kiwi"));
  EXPECT_EQ(journal.committed(), 9u);
  EXPECT_EQ(reports.commits(), (std::vector<std::uint64_t>{5, 6, 7, 9}));
  EXPECT_TRUE(reports.failures().empty());
}

TEST(MemoryJournal, WhenCommittedRunsAtOnceForWhatIsCommitted) {
  CommitReports reports;
  Journal journal(nullptr, 0, reports.on_commit(), reports.on_failure());
  append_put(journal, "kiwi", 5);
  for (const std::uint64_t seq : {0, 1, 5}) {
    std::optional<std::thread::id> ran_on;
    journal.when_committed(seq, [&] { ran_on = std::this_thread::get_id(); });
    EXPECT_EQ(ran_on, std::this_thread::get_id()) << seq;
  }
}

TEST(MemoryJournal, WhenCommittedWaitsForALaterSeq) {
  CommitReports reports;
  Journal journal(nullptr, 0, reports.on_commit(), reports.on_failure());
  append_put(journal, "kiwi", 5);
  std::vector<std::uint64_t> ran;
  journal.when_committed(8, [&] { ran.push_back(8); });
  journal.when_committed(6, [&] { ran.push_back(6); });
  journal.when_committed(7, [&] { ran.push_back(7); });
  EXPECT_TRUE(ran.empty());
  append_put(journal, "kiwi", 6);
  EXPECT_EQ(ran, std::vector<std::uint64_t>{6});
  append_put(journal, "apple", 9);  // past 7 and 8 at once
  EXPECT_EQ(ran, (std::vector<std::uint64_t>{6, 7, 8}));
}

TEST(MemoryJournal, StartsAtWhatTheFileHeld) {
  CommitReports reports;
  constexpr std::uint64_t kBase = std::uint64_t{3} << 40;
  Journal journal(nullptr, kBase, reports.on_commit(), reports.on_failure());
  EXPECT_EQ(journal.committed(), kBase);
  bool ran = false;
  journal.when_committed(kBase, [&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(reports.commits().empty());
  append_put(journal, "kiwi", kBase + 1);
  EXPECT_EQ(journal.committed(), kBase + 1);
  EXPECT_EQ(reports.commits(), std::vector<std::uint64_t>{kBase + 1});
}

// ---- With a database ----

class JournalFileTest : public testing::DataFileTest {
 protected:
  static std::map<std::string, StoredRecord> by_client(const Contents& contents) {
    std::map<std::string, StoredRecord> records;
    for (const auto& record : contents.records) records.emplace(record.client, record);
    return records;
  }
  static std::map<std::string, StoredCursor> by_neighbour(const Contents& contents) {
    std::map<std::string, StoredCursor> cursors;
    for (const auto& cursor : contents.cursors) cursors.emplace(cursor.neighbour, cursor);
    return cursors;
  }

  // Appends `client` as change 1 and holds the journal's thread after committing it, so
  // that what the test appends next waits for release() as one batch.
  static bool hold_after_first(Journal& journal, CommitReports& reports,
                               const std::string& client) {
    reports.hold();
    append_put(journal, client, 1);
    return reports.wait_until_held();
  }

  // The newest generation's file, where the batches go.
  std::filesystem::path newest_generation() const {
    std::uint64_t newest = 0;
    const std::string prefix = file_.filename().string() + ".";
    for (const auto& entry : std::filesystem::directory_iterator(file_.parent_path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string number = name.substr(prefix.size());
      if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
      newest = std::max<std::uint64_t>(newest, std::stoull(number));
    }
    return file_.string() + "." + std::to_string(newest);
  }

  std::uintmax_t wal_size() const {
    return std::filesystem::file_size(newest_generation().string() + "-wal");
  }

  // Files this process writes may not grow beyond `bytes` (writes fail with EFBIG) until
  // lift() or the end of the scope.
  class FileSizeLimit {
   public:
    explicit FileSizeLimit(std::uintmax_t bytes) {
      old_signal_ = std::signal(SIGXFSZ, SIG_IGN);
      ::getrlimit(RLIMIT_FSIZE, &old_);
      rlimit limit = old_;
      limit.rlim_cur = bytes;
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() {
      lift();
      std::signal(SIGXFSZ, old_signal_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    void lift() const { ::setrlimit(RLIMIT_FSIZE, &old_); }

   private:
    rlimit old_{};
    void (*old_signal_)(int) = nullptr;
  };

  // A journal on file_, with its reports. By default an append that finds the journal idle
  // starts a batch at once; with Batches::kByTurn, `loop` makes the batches, as a server's
  // event loop does.
  enum class Batches { kAtOnce, kByTurn };
  struct OpenJournal {
    OpenJournal(const std::filesystem::path& file, Sync sync, Batches batches = Batches::kAtOnce,
                SnapshotSource snapshots = {})
        : database(file, sync, contents),
          journal(&database, 0, reports.on_commit(), reports.on_failure(), std::move(snapshots),
                  batches == Batches::kByTurn ? loop.post() : loop::Post{}) {}
    CommitReports reports;
    herd::testing::ManualLoop loop;
    Contents contents;
    Database database;
    Journal journal;
    const ReleaseAtEnd release_at_end{reports};  // a held thread goes on, and the journal closes
  };

  // Changes 2 to 5 of the cursor tests: puts and cursors mixed, Juzang's moved twice.
  static void append_mixed(Journal& journal) {
    journal.append(Change::cursor(2, "Juzang", kId1, 10));
    append_put(journal, "b", 3);
    journal.append(Change::cursor(4, "Jaquez", kId2, 7));
    journal.append(Change::cursor(5, "Juzang", kId1, 20));
  }
};

TEST_F(JournalFileTest, WhenCommittedRunsOnlyAfterTheCommit) {
  CommitReports reports;
  // What the callback saw; made before the journal, whose thread may run it until it stops.
  struct Seen {
    std::uint64_t committed = 0;
    std::vector<std::uint64_t> commits;
    std::thread::id thread;
    std::promise<void> done;
  };
  auto seen = std::make_shared<Seen>();
  auto done = seen->done.get_future();
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    Journal journal(&database, 0, reports.on_commit(), reports.on_failure());
    const ReleaseAtEnd release_at_end(reports);

    ASSERT_TRUE(hold_after_first(journal, reports, "apple"));
    EXPECT_EQ(journal.committed(), 1u);

    append_put(journal, "kiwi", 2);
    journal.when_committed(2, [&journal, &reports, seen] {
      seen->committed = journal.committed();
      seen->commits = reports.commits();
      seen->thread = std::this_thread::get_id();
      seen->done.set_value();
    });
    EXPECT_EQ(done.wait_for(300ms), std::future_status::timeout);
    EXPECT_EQ(journal.committed(), 1u);

    reports.release();
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
    EXPECT_GE(seen->committed, 2u);
    EXPECT_EQ(seen->commits, (std::vector<std::uint64_t>{1, 2}));  // on_commit came first
    EXPECT_NE(seen->thread, std::this_thread::get_id());
    EXPECT_EQ(journal.committed(), 2u);

    // Once committed, at once on the calling thread.
    std::optional<std::thread::id> ran_on;
    journal.when_committed(2, [&] { ran_on = std::this_thread::get_id(); });
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    journal.when_committed(1, [&] { ran_on.reset(); });
    EXPECT_FALSE(ran_on.has_value());
    EXPECT_TRUE(reports.failures().empty());
  }
  const auto records = by_client(open());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records.at("kiwi").at_line, line_for("kiwi", 2));
  EXPECT_EQ(records.at("kiwi").lsn, 2u);
}

TEST_F(JournalFileTest, ABatchIsWhatTheLoopsTurnAppended) {
  {
    OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
    append_put(on.journal, "apple", 1);
    append_put(on.journal, "kiwi", 2);
    append_put(on.journal, "pear", 3);
    // Nothing is written while the turn goes on.
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(on.journal.committed(), 0u);
    EXPECT_EQ(on.loop.queued(), 1u);

    on.loop.run_queued();
    ASSERT_TRUE(on.reports.wait_for_commit(3));
    EXPECT_EQ(on.reports.commits(), std::vector<std::uint64_t>{3});  // one transaction

    append_put(on.journal, "plum", 4);
    EXPECT_EQ(on.loop.queued(), 1u);
    on.loop.run_queued();
    ASSERT_TRUE(on.reports.wait_for_commit(4));

    // What a turn had appended when the journal closed is written too.
    append_put(on.journal, "fig", 5);
    on.journal.close();
    EXPECT_EQ(on.journal.committed(), 5u);
    EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{3, 4, 5}));
  }
  Contents contents;
  const Database reopened(file_, Sync::kWritten, contents);
  EXPECT_EQ(contents.records.size(), 5u);
}

TEST_F(JournalFileTest, WrittenTheLoopCommitsItsOwnTurn) {
  OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
  append_put(on.journal, "apple", 1);
  append_put(on.journal, "kiwi", 2);
  std::optional<std::thread::id> replied_on;
  on.journal.when_committed(2, [&] { replied_on = std::this_thread::get_id(); });
  EXPECT_FALSE(replied_on.has_value());

  // The turn's end writes a small batch there and then: no other thread, no waiting.
  on.loop.run_queued();
  EXPECT_EQ(on.journal.committed(), 2u);
  EXPECT_EQ(on.reports.commits(), std::vector<std::uint64_t>{2});
  EXPECT_EQ(replied_on, std::this_thread::get_id());
  EXPECT_EQ(by_client(open_copy()).size(), 2u);
}

// The loop reuses the buffer of the batch it wrote for the next turn's appends; one made
// while it wrote (here by a reply, as another thread of the loop could) is not lost to that.
TEST_F(JournalFileTest, WrittenWhatIsAppendedDuringTheLoopsCommitGoesInTheNextTurn) {
  OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
  append_put(on.journal, "apple", 1);
  on.journal.when_committed(1, [&] { append_put(on.journal, "kiwi", 2); });
  on.loop.run_queued();
  EXPECT_EQ(on.journal.committed(), 1u);
  on.loop.run_queued();
  EXPECT_EQ(on.journal.committed(), 2u);
  EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{1, 2}));
  const auto records = by_client(open_copy());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records.at("kiwi").at_line, line_for("kiwi", 2));
}

// Under load a turn's batch is large, and the loop writes it too, in one transaction:
// waking the journal's thread for it cost more than the write (docs/durability-costs.md).
TEST_F(JournalFileTest, WrittenTheLoopCommitsALargeBatchToo) {
  OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
  const std::uint64_t last = 10'000;
  for (std::uint64_t seq = 1; seq <= last; ++seq) {
    append_put(on.journal, "c" + std::to_string(seq), seq);
  }
  std::optional<std::thread::id> committed_on;
  on.journal.when_committed(last, [&] { committed_on = std::this_thread::get_id(); });
  on.loop.run_queued();
  EXPECT_EQ(on.journal.committed(), last);
  EXPECT_EQ(committed_on, std::this_thread::get_id());
  EXPECT_EQ(on.reports.commits(), std::vector<std::uint64_t>{last});
  EXPECT_EQ(by_client(open_copy()).size(), last);
}

// A commit that finds a snapshot due starts one, whichever thread wrote it: in "written"
// mode that is the loop's. The journal's thread writes the snapshot, and the rows it
// replaces go.
TEST_F(JournalFileTest, ACommitOnTheLoopThatFindsASnapshotDueHasOneWritten) {
  // 5000 clients, each updated twenty times: the changes outnumber the records, and the
  // snapshot takes three steps, each of several slices of the store.
  constexpr std::uint64_t kClients = 5000;
  const std::uint64_t last = Journal::kCompactAfter;
  const auto client_of = [](std::uint64_t seq) { return "c" + std::to_string(seq % kClients); };
  std::map<std::uint64_t, StoredRecord> held;  // what the store holds once all are stored
  for (std::uint64_t seq = last - kClients + 1; seq <= last; ++seq) {
    held[seq] = StoredRecord{client_of(seq), line_for(client_of(seq), seq), seq, ""};
  }
  SnapshotSource source{[&held](std::uint64_t after, std::uint64_t up_to, std::size_t limit) {
                          std::vector<StoredRecord> records;
                          for (auto it = held.upper_bound(after);
                               it != held.end() && it->first <= up_to && records.size() < limit;
                               ++it) {
                            records.push_back(it->second);
                          }
                          return records;
                        },
                        [&held] { return held.size(); }};
  OpenJournal on(file_, Sync::kWritten, Batches::kByTurn, std::move(source));
  for (std::uint64_t seq = 1; seq <= last; ++seq) append_put(on.journal, client_of(seq), seq);
  on.loop.run_queued();
  ASSERT_EQ(on.journal.committed(), last);  // by the loop

  // The snapshot is whole once the first generation, which it replaces, is gone.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::filesystem::exists(file_.string() + ".1") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const Contents contents = open_copy();
  EXPECT_EQ(contents.logged_changes, 0u);
  const auto records = by_client(contents);
  ASSERT_EQ(records.size(), kClients);
  for (const auto& [lsn, record] : held) {
    testing::expect_record(records.at(record.client), record.client, record.at_line, lsn, "");
  }
  EXPECT_TRUE(on.reports.failures().empty());
}

// The loop goes on committing while the journal's thread writes a snapshot: those batches
// go to the new generation, and once the snapshot is whole and the old generation gone,
// the files hold every client's newest record, no more and no less.
TEST_F(JournalFileTest, BatchesWhileASnapshotIsWrittenAreKept) {
  constexpr std::uint64_t kClients = 3000;
  const auto client_of = [](std::uint64_t seq) { return "c" + std::to_string(seq % kClients); };
  // The store: each client's newest record, read by LSN as a server's store is.
  struct Store {
    std::mutex mutex;
    std::map<std::uint64_t, StoredRecord> by_lsn;
    std::map<std::string, std::uint64_t> lsn_of;
  };
  auto store = std::make_shared<Store>();
  // The snapshot reads nothing until a turn has run during it, so that one surely has,
  // however the two threads are scheduled.
  auto turns_during = std::make_shared<std::atomic<int>>(0);
  SnapshotSource source{
      [store, turns_during](std::uint64_t after, std::uint64_t up_to, std::size_t limit) {
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (turns_during->load() == 0 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(1ms);
        }
        const std::lock_guard lock(store->mutex);
        std::vector<StoredRecord> records;
        for (auto it = store->by_lsn.upper_bound(after);
             it != store->by_lsn.end() && it->first <= up_to && records.size() < limit; ++it) {
          records.push_back(it->second);
        }
        return records;
      },
      [store] {
        const std::lock_guard lock(store->mutex);
        return store->by_lsn.size();
      }};
  std::uint64_t seq = 0;
  {
    OpenJournal on(file_, Sync::kWritten, Batches::kByTurn, std::move(source));
    const auto put = [&] {
      ++seq;
      const std::string client = client_of(seq);
      {
        const std::lock_guard lock(store->mutex);
        if (const auto old = store->lsn_of.find(client); old != store->lsn_of.end()) {
          store->by_lsn.erase(old->second);
        }
        store->lsn_of[client] = seq;
        store->by_lsn[seq] = StoredRecord{client, line_for(client, seq), seq, ""};
      }
      append_put(on.journal, client, seq);
    };
    // Turns of 500 changes, until the snapshot that the first 100,000 make due is whole,
    // with turns before it and after it too.
    while (seq < Journal::kCompactAfter) {
      for (int i = 0; i < 500; ++i) put();
      on.loop.run_queued();
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::filesystem::exists(file_.string() + ".1") &&
           std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < 50; ++i) put();
      on.loop.run_queued();
      ++*turns_during;
    }
    ASSERT_FALSE(std::filesystem::exists(file_.string() + ".1"));
    EXPECT_GT(turns_during->load(), 0);
    for (int i = 0; i < 50; ++i) put();
    on.loop.run_queued();
    ASSERT_TRUE(on.reports.wait_for_commit(seq));
    EXPECT_TRUE(on.reports.failures().empty());
  }
  EXPECT_TRUE(std::filesystem::exists(file_.string() + ".2"));
  Contents contents;
  const Database reopened(file_, Sync::kWritten, contents);
  const auto records = by_client(contents);
  ASSERT_EQ(records.size(), kClients);
  for (const auto& [lsn, record] : store->by_lsn) {
    testing::expect_record(records.at(record.client), record.client, record.at_line, lsn, "");
  }
  EXPECT_LT(contents.logged_changes, seq - Journal::kCompactAfter + 1000);
}

TEST_F(JournalFileTest, SyncedTheJournalsThreadCommits) {
  OpenJournal on(file_, Sync::kSynced, Batches::kByTurn);
  append_put(on.journal, "apple", 1);
  std::promise<std::thread::id> committed_on;
  on.journal.when_committed(1, [&] { committed_on.set_value(std::this_thread::get_id()); });
  on.loop.run_queued();
  auto thread = committed_on.get_future();
  ASSERT_EQ(thread.wait_for(10s), std::future_status::ready);
  EXPECT_NE(thread.get(), std::this_thread::get_id());
  EXPECT_EQ(on.journal.committed(), 1u);
}

// The commit that finds the WAL past its threshold asks the checkpointer, whose thread
// copies the WAL into the file.
TEST_F(JournalFileTest, ACommitThatFindsTheWalGrownHasItCheckpointed) {
  OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
  const std::filesystem::path generation = newest_generation();
  const auto size_at_start = std::filesystem::file_size(generation);
  const std::string line(1 << 20, 'x');
  std::uint64_t seq = 0;
  while (seq * line.size() < Database::kCheckpointBytes + line.size()) {
    ++seq;
    on.journal.append(Change::put(seq, "client" + std::to_string(seq), line));
    on.loop.run_queued();
  }
  ASSERT_TRUE(on.reports.wait_for_commit(seq));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::filesystem::file_size(generation) < size_at_start + Database::kCheckpointBytes / 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(std::filesystem::file_size(generation), size_at_start + Database::kCheckpointBytes / 2);
  EXPECT_TRUE(on.reports.failures().empty());
}

// A write that fails (here: the WAL may not grow, as on a full disk) is reported and
// retried by the journal's thread until it succeeds; what comes meanwhile waits behind
// it, and nothing is lost or reordered.
TEST_F(JournalFileTest, AFailedWriteIsRetriedUntilItSucceeds) {
  {
    OpenJournal on(file_, Sync::kWritten, Batches::kByTurn);
    append_put(on.journal, "first", 1);
    on.loop.run_queued();
    ASSERT_EQ(on.journal.committed(), 1u);

    const FileSizeLimit limit(wal_size());
    const std::string big(std::size_t{64} * 1024, 'x');  // more than the WAL may grow by
    on.journal.append(Change::put(2, "big", big));
    on.loop.run_queued();
    ASSERT_TRUE(on.reports.wait_for_failures(1));
    EXPECT_EQ(on.journal.committed(), 1u);
    EXPECT_NE(on.reports.failures().front().find("cannot write data file"), std::string::npos)
        << on.reports.failures().front();
    // A later turn's changes go behind the failed batch.
    append_put(on.journal, "later", 3);
    on.loop.run_queued();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(on.journal.committed(), 1u);

    limit.lift();
    ASSERT_TRUE(on.reports.wait_for_commit(3));
    EXPECT_EQ(on.journal.committed(), 3u);
    EXPECT_EQ(on.reports.commits().front(), 1u);
    EXPECT_TRUE(strictly_increasing(on.reports.commits()));
  }
  const auto records = by_client(open());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records.at("big").at_line.size(), 64u * 1024);
  EXPECT_EQ(records.at("later").lsn, 3u);
}

TEST_F(JournalFileTest, WhatComesDuringAWriteGoesInOneMoreBatch) {
  constexpr std::uint64_t kChanges = 100;
  {
    OpenJournal on(file_, Sync::kWritten);
    ASSERT_TRUE(hold_after_first(on.journal, on.reports, "c1"));
    for (std::uint64_t seq = 2; seq <= kChanges; ++seq) {
      append_put(on.journal, "c" + std::to_string(seq), seq);
    }
    EXPECT_EQ(on.journal.committed(), 1u);
    on.reports.release();
    ASSERT_TRUE(on.reports.wait_for_commit(kChanges));
    EXPECT_EQ(on.journal.committed(), kChanges);
    EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{1, kChanges}));
  }
  const auto records = by_client(open());
  ASSERT_EQ(records.size(), kChanges);
  for (std::uint64_t seq = 1; seq <= kChanges; ++seq) {
    const auto it = records.find("c" + std::to_string(seq));
    ASSERT_NE(it, records.end()) << seq;
    EXPECT_EQ(it->second.lsn, seq);
    EXPECT_EQ(it->second.at_line, line_for(it->first, seq));
  }
}

TEST_F(JournalFileTest, AppendsFromManyThreadsAllCommit) {
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kEach;
  std::mutex store_mutex;  // as the store's: seqs are taken and appended under it
  std::uint64_t seq = 0;
  std::map<std::string, std::uint64_t> expected;
  {
    OpenJournal on(file_, Sync::kWritten);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::lock_guard lock(store_mutex);
          const std::string client = "t" + std::to_string(t) + "-" + std::to_string(i);
          expected[client] = ++seq;
          append_put(on.journal, client, seq);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(on.reports.wait_for_commit(kTotal));
    EXPECT_EQ(on.journal.committed(), kTotal);
    const auto commits = on.reports.commits();
    EXPECT_TRUE(strictly_increasing(commits));
    EXPECT_EQ(commits.back(), kTotal);
    EXPECT_TRUE(on.reports.failures().empty());
  }
  const auto records = by_client(open());
  ASSERT_EQ(records.size(), kTotal);
  for (const auto& [client, lsn] : expected) {
    const auto it = records.find(client);
    ASSERT_NE(it, records.end()) << client;
    EXPECT_EQ(it->second.lsn, lsn) << client;
    EXPECT_EQ(it->second.at_line, line_for(client, lsn)) << client;
  }
}

TEST_F(JournalFileTest, TheFileHoldsTheLastCursorOfABatch) {
  {
    OpenJournal on(file_, Sync::kWritten);
    ASSERT_TRUE(hold_after_first(on.journal, on.reports, "a"));
    append_mixed(on.journal);
    on.journal.append(Change::cursor(6, "Juzang", kId3, 30));  // the last change is a cursor
    on.reports.release();
    ASSERT_TRUE(on.reports.wait_for_commit(6));
    EXPECT_EQ(on.journal.committed(), 6u);
    EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{1, 6}));
  }
  const Contents contents = open();
  const auto records = by_client(contents);
  EXPECT_EQ(records.size(), 2u);
  EXPECT_TRUE(records.contains("a"));
  EXPECT_TRUE(records.contains("b"));
  const auto cursors = by_neighbour(contents);
  ASSERT_EQ(cursors.size(), 2u);
  expect_cursor(cursors.at("Juzang"), "Juzang", kId3, 30u);
  expect_cursor(cursors.at("Jaquez"), "Jaquez", kId2, 7u);
}

TEST_F(JournalFileTest, TheFileHoldsTheLastCursorOfEachNeighbourAcrossBatches) {
  {
    OpenJournal on(file_, Sync::kWritten);
    ASSERT_TRUE(hold_after_first(on.journal, on.reports, "a"));
    append_mixed(on.journal);
    // The journal takes that batch, and is held again after writing it.
    on.reports.release(/*again=*/true);
    ASSERT_TRUE(on.reports.wait_until_held());
    ASSERT_EQ(on.journal.committed(), 5u);
    // A new batch: its cursors replace the last one's, in the order appended.
    append_put(on.journal, "c", 6);
    on.journal.append(Change::cursor(7, "Jaquez", kId1, 8));
    on.journal.append(Change::cursor(8, "Juzang", kId1, 5));  // lower: the journal does not judge
    on.journal.append(Change::cursor(9, "Jaquez", kId3, 9));
    append_put(on.journal, "d", 10);
    on.reports.release();
    ASSERT_TRUE(on.reports.wait_for_commit(10));
    EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{1, 5, 10}));
  }
  const Contents contents = open();
  const auto records = by_client(contents);
  EXPECT_EQ(records.size(), 4u);
  for (const char* client : {"a", "b", "c", "d"}) EXPECT_TRUE(records.contains(client)) << client;
  const auto cursors = by_neighbour(contents);
  ASSERT_EQ(cursors.size(), 2u);
  expect_cursor(cursors.at("Juzang"), "Juzang", kId1, 5u);
  expect_cursor(cursors.at("Jaquez"), "Jaquez", kId3, 9u);
}

TEST_F(JournalFileTest, CloseWritesWhatIsPending) {
  {
    OpenJournal on(file_, Sync::kWritten);
    ASSERT_TRUE(hold_after_first(on.journal, on.reports, "a"));
    append_put(on.journal, "b", 2);
    on.journal.append(Change::cursor(3, "Juzang", kId1, 42));
    on.journal.append(Change::erase(4, "a"));
    append_put(on.journal, "c", 5);
    std::thread releaser([&on] {
      std::this_thread::sleep_for(200ms);
      on.reports.release();
    });
    on.journal.close();
    releaser.join();
    EXPECT_EQ(on.journal.committed(), 5u);
    EXPECT_EQ(on.reports.commits(), (std::vector<std::uint64_t>{1, 5}));

    // Once closed, an append commits at once, unwritten.
    append_put(on.journal, "late", 6);
    EXPECT_EQ(on.journal.committed(), 6u);
    bool ran = false;
    on.journal.when_committed(6, [&] { ran = true; });
    EXPECT_TRUE(ran);
    on.journal.close();  // again: nothing to do
    EXPECT_TRUE(on.reports.failures().empty());
  }
  const Contents contents = open();
  const auto records = by_client(contents);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records.at("b").lsn, 2u);
  EXPECT_EQ(records.at("c").lsn, 5u);
  const auto cursors = by_neighbour(contents);
  ASSERT_EQ(cursors.size(), 1u);
  EXPECT_EQ(cursors.at("Juzang").lsn, 42u);
}

TEST_F(JournalFileTest, DestroyingTheJournalWritesWhatIsPending) {
  constexpr std::uint64_t kChanges = 50;
  {
    OpenJournal on(file_, Sync::kWritten);
    for (std::uint64_t seq = 1; seq <= kChanges; ++seq) {
      append_put(on.journal, "c" + std::to_string(seq), seq);
    }
  }
  EXPECT_EQ(open().records.size(), kChanges);
}

}  // namespace
}  // namespace herd::store
