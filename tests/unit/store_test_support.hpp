// What the store's tests share: a data file in a directory of its own, records in a stable
// order, and a journal's reports with a way to hold its thread after a commit, so that a
// test decides what stays uncommitted.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/journal.hpp"

namespace herd::store::testing {

// A put whose LSN may differ from its seq, as a file written by hand may hold (Change::put
// makes the LSN the seq).
inline Change put_lsn(std::uint64_t seq, std::uint64_t lsn, std::string_view client,
                      std::string_view at_line, std::string_view source = "") {
  Change change = Change::put(seq, client, at_line, source);
  change.lsn = lsn;
  return change;
}

inline void expect_record(const StoredRecord& record, std::string_view client,
                          std::string_view at_line, std::uint64_t lsn, std::string_view source) {
  EXPECT_EQ(record.client, client);
  EXPECT_EQ(record.at_line, at_line) << record.client;
  EXPECT_EQ(record.lsn, lsn) << record.client;
  EXPECT_EQ(record.source, source) << record.client;
}

inline void expect_cursor(const StoredCursor& cursor, std::string_view neighbour,
                          std::string_view store_id, std::uint64_t lsn) {
  EXPECT_EQ(cursor.neighbour, neighbour);
  EXPECT_EQ(cursor.store_id, store_id) << cursor.neighbour;
  EXPECT_EQ(cursor.lsn, lsn) << cursor.neighbour;
}

inline std::vector<StoredRecord> sorted(std::vector<StoredRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const StoredRecord& a, const StoredRecord& b) { return a.client < b.client; });
  return records;
}

// A test with a data file of its own, `file_`, in a fresh directory `dir_` that goes
// when the test ends.
class DataFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("herd-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "data" / "Clark.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // What opening the file finds (and one more boot counted in it).
  Contents open(Sync sync = Sync::kWritten) {
    Contents contents;
    const Database database(file_, sync, contents);
    return contents;
  }

  // What the store holds while a Database holds it open, and so locked, as a process
  // killed now would leave it: what opening a copy of its files as they are (the anchor,
  // its generations and their WALs) finds. Only while nothing writes them.
  Contents open_copy() {
    const auto copy = dir_ / "copy" / file_.filename();
    std::filesystem::remove_all(copy.parent_path());
    std::filesystem::create_directories(copy.parent_path());
    const std::string name = file_.filename().string();
    for (const auto& entry : std::filesystem::directory_iterator(file_.parent_path())) {
      const std::string found = entry.path().filename().string();
      if (found.rfind(name, 0) != 0 || found.ends_with("-shm")) continue;
      std::filesystem::copy_file(entry.path(), copy.parent_path() / found);
    }
    Contents contents;
    const Database reader(copy, Sync::kWritten, contents);
    return contents;
  }

  std::filesystem::path dir_;
  std::filesystem::path file_;
};

// What a journal reported. While held, the journal's thread stays in on_commit after its
// next commit, so that whatever is appended meanwhile makes the next batch.
class CommitReports {
 public:
  Journal::OnCommit on_commit() {
    return [this](std::uint64_t seq) {
      std::unique_lock lock(mutex_);
      commits_.push_back(seq);
      changed_.notify_all();
      if (!hold_) return;
      held_ = true;
      changed_.notify_all();
      const std::uint64_t releases = releases_;
      changed_.wait(lock, [&] { return releases_ != releases; });
    };
  }
  Journal::OnFailure on_failure() {
    return [this](const std::string& message) {
      {
        const std::lock_guard lock(mutex_);
        failures_.push_back(message);
      }
      changed_.notify_all();
    };
  }
  std::vector<std::uint64_t> commits() const {
    const std::lock_guard lock(mutex_);
    return commits_;
  }
  std::vector<std::string> failures() const {
    const std::lock_guard lock(mutex_);
    return failures_;
  }
  void hold() {
    const std::lock_guard lock(mutex_);
    hold_ = true;
  }
  // True once the journal's thread is held.
  bool wait_until_held() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [this] { return held_; });
  }
  // Lets the journal's thread go; with `again`, to be held after its next commit.
  void release(bool again = false) {
    {
      const std::lock_guard lock(mutex_);
      hold_ = again;
      held_ = false;
      ++releases_;
    }
    changed_.notify_all();
  }
  // True once `count` failures were reported.
  bool wait_for_failures(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10),
                             [&] { return failures_.size() >= count; });
  }
  // True once a commit of `seq` or later was reported.
  bool wait_for_commit(std::uint64_t seq, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout,
                             [&] { return !commits_.empty() && commits_.back() >= seq; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> commits_;
  std::vector<std::string> failures_;
  bool hold_ = false;
  bool held_ = false;
  std::uint64_t releases_ = 0;
};

// Lets the journal's thread go when a test ends, however it ends: declared after the
// journal, it runs before the journal's destructor waits for the thread.
class ReleaseAtEnd {
 public:
  explicit ReleaseAtEnd(CommitReports& reports) : reports_(reports) {}
  ~ReleaseAtEnd() { reports_.release(); }
  ReleaseAtEnd(const ReleaseAtEnd&) = delete;
  ReleaseAtEnd& operator=(const ReleaseAtEnd&) = delete;

 private:
  CommitReports& reports_;
};

}  // namespace herd::store::testing
