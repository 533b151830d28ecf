// The checkpointer: copies the data file's WAL into the file (a checkpoint) on a thread
// of its own, through the database's second connection, while batches go on being
// committed through the first.
//
// A checkpoint of 40 MiB syncs the WAL and the file, 100 ms or more on a busy disk. Run
// by the thread that also commits batches, it held every commit, and so every AT reply,
// for that long (docs/durability.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace herd::store {

class Database;

class Checkpointer {
 public:
  using OnFailure = std::function<void(const std::string& message)>;

  // `on_failure` reports a failed checkpoint, on the checkpointer's thread.
  Checkpointer(Database& database, OnFailure on_failure);
  ~Checkpointer();  // waits for the checkpoint under way, if any
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for a checkpoint, from any thread, and returns at once. Asks that come while
  // one runs make one more, after it; one that raced a commit goes again after kRetryAfter.
  void request();

 private:
  static constexpr std::chrono::milliseconds kRetryAfter{1};

  void run();
  // One checkpoint; false if it is to be tried again (Database::checkpoint).
  bool checkpoint_once();

  Database& database_;
  OnFailure on_failure_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool asked_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last, so that it starts once the members above are made
};

}  // namespace herd::store
