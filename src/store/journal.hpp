// The journal: hands the store's changes to the database in batches, on a thread of its
// own, and says when each change is committed.
//
// Changes are appended in sequence order under the store's lock and written in that order,
// one transaction a batch: every change appended while the previous transaction was being
// written goes into the next one, so under load one commit (one fsync, when synced)
// covers many records. An AT reply waits for its record's commit (when_committed), and a
// neighbour link sends only committed records (committed()), so nothing leaves a server
// before it would survive the server's death.
//
// Without a database (durability "memory") a change is committed as soon as it is
// appended.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/change.hpp"

namespace herd::store {

class Database;

class Journal {
 public:
  using OnCommit = std::function<void(std::uint64_t seq)>;
  using OnFailure = std::function<void(const std::string& message)>;

  // `on_commit` runs after every commit, on the journal's thread (with a database) or the
  // appending one (without): it must be quick and must not call back into the journal's
  // appenders. `on_failure` reports a failed transaction, which is retried after a second.
  Journal(Database* database, OnCommit on_commit, OnFailure on_failure);
  ~Journal();  // writes what is pending, then stops
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one change; its seq must be greater than any appended before. Changes of a
  // neighbour's cursor replace an earlier one of the same batch: a cursor is only ever
  // wanted at its newest.
  void append(Change change);

  // The seq of the last change committed.
  std::uint64_t committed() const;

  // Runs `done` once every change up to `seq` is committed: at once on the calling thread
  // if it is, later on the journal's thread otherwise.
  void when_committed(std::uint64_t seq, std::function<void()> done);

  // Writes what is pending and stops the thread; later appends commit at once, unwritten.
  void close();

 private:
  void run();
  void publish(std::uint64_t seq);
  // After a failed write: false when closing (the batch is given up), else true once the
  // batch is back at the head of what is pending.
  bool put_back(std::vector<Change>& batch, const std::string& why);

  Database* database_;
  OnCommit on_commit_;
  OnFailure on_failure_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Change> pending_;
  std::unordered_map<std::string, std::size_t> pending_cursors_;  // neighbour -> index
  std::uint64_t pending_last_ = 0;
  std::uint64_t committed_ = 0;
  std::multimap<std::uint64_t, std::function<void()>> waiters_;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace herd::store
