// The journal: hands the store's changes to the database in batches, and says when each
// change is committed.
//
// Changes are appended in sequence order under the store's lock and written in that order,
// one transaction a batch. A batch is what the event loop appended in its turn (see
// loop/after_turn.hpp), and more if the previous transaction was still being written: so
// under load one commit (one fsync, when synced) covers many records, and an idle server
// commits a record as soon as the turn that made it ends. An AT reply waits for its
// record's commit (when_committed), and a neighbour link sends only committed records
// (committed()), so nothing leaves a server before it would survive the server's death.
//
// Where a batch is written depends on what a commit waits for. With Sync::kWritten a
// commit waits for nothing but a few writes to the operating system, so the loop's thread
// writes its batch itself as its turn ends: a reply goes out without a hand-over to
// another thread and back, and no thread is woken for it, which under load cost more than
// the write (docs/durability-costs.md). With Sync::kSynced a commit waits for the disk, so the
// journal's own thread writes every batch while the loop goes on. The thread also writes
// snapshots and retries failed writes; a loop that finds the writer busy leaves its batch
// to the thread. One writer at a time takes a batch, writes it and publishes it, so
// commits stay in sequence order. A commit that finds the WAL grown asks the
// checkpointer (checkpointer.hpp), whose thread copies it into the file while commits go on.
//
// The newest generation's file grows by one row a batch. Once the rows written since the
// last snapshot hold more changes than twice the records stored (and at least
// kCompactAfter), the journal's thread starts a new generation, writes a snapshot of the
// store into it, a couple of thousand records a transaction between batches, and then
// deletes the generations it replaces, whole files (database.hpp, docs/durability.md).
// The commit that finds one due, on whichever thread, asks for it and wakes the thread.
//
// Without a database (durability "memory") a change is committed as soon as it is
// appended.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loop/after_turn.hpp"
#include "store/change.hpp"
#include "store/change_log.hpp"
#include "store/checkpointer.hpp"

namespace herd::store {

class Database;
// Where a snapshot's records come from: the store.
struct SnapshotSource {
  // Records with an LSN in (after, up_to], oldest first, at most `limit`.
  std::function<std::vector<StoredRecord>(std::uint64_t after, std::uint64_t up_to,
                                          std::size_t limit)>
      read;
  std::function<std::size_t()> size;
};

class Journal {
 public:
  static constexpr std::size_t kCompactAfter = 100'000;

  using OnCommit = std::function<void(std::uint64_t seq)>;
  using OnFailure = Checkpointer::OnFailure;  // reports a failure, in words for the log

  // `on_commit` runs after every commit, on the thread that wrote it (the loop's or the
  // journal's) or the appending one (without a database): it must be quick and must not
  // call back into the journal's appenders. `on_failure` reports a failed transaction,
  // which the journal's thread tries again every second.
  // Every change up to `committed` is already in the file (the boots before this one).
  // `post` queues work on the event loop whose turns make the batches; without one, each
  // append that finds the journal idle starts a batch at once.
  Journal(Database* database, std::uint64_t committed, OnCommit on_commit, OnFailure on_failure,
          SnapshotSource snapshots = {}, loop::Post post = {});
  ~Journal();  // writes what is pending, then stops
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one change; its seq must be greater than any appended before. Copies what it
  // keeps of the change.
  void append(const Change& change);

  // The seq of the last change committed.
  std::uint64_t committed() const;

  // Runs `done` once every change up to `seq` is committed: at once on the calling thread
  // if it is, later on the thread that commits it otherwise.
  void when_committed(std::uint64_t seq, std::function<void()> done);

  // Writes what is pending and stops the thread; later appends commit at once, unwritten.
  void close();

 private:
  // x86-64's; std::hardware_destructive_interference_size warns in a header (GCC's
  // -Winterference-size), as its value may differ between translation units.
  static constexpr std::size_t kCacheLine = 64;

  void run();
  // The loop's turn has ended: its batch is written here or handed to the thread.
  void end_turn();
  // Writes `batch` and publishes it, with writer_ held, then gives its emptied buffer to
  // the appends if none came meanwhile. On failure, puts it back at the head of what is
  // pending for the thread to retry, and returns false.
  bool commit(ChangeBatch& batch);
  void publish(std::uint64_t seq);
  // With writer_ held. A commit that finds a snapshot due asks for one, and wakes the
  // journal's thread, which writes it a step at a time between batches (compact_step),
  // taking writer_ for the steps that write the newest generation.
  bool snapshot_due() const;
  void start_snapshot();
  void compact_step();

  Database* database_;
  OnCommit on_commit_;
  OnFailure on_failure_;
  const bool commit_on_loop_;  // Sync::kWritten, with a loop to batch by

  // Held from taking a batch to publishing it, and for a snapshot step that writes the
  // newest generation; taken before mutex_.
  std::mutex writer_;
  ChangeBatch loop_batch_;  // the loop's batch, reused; under writer_

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Guards pending_ (and closing_, with mutex_) and nothing else. Appends take it once a
  // change, so no thread holds it for longer than a swap: appends that shared mutex_ with
  // the journal's thread waited for it, off the loop's CPU (docs/durability-costs.md). On a cache
  // line of its own, away from what the thread writes. Taken after mutex_.
  alignas(kCacheLine) std::mutex pending_mutex_;
  ChangeBatch pending_;
  // Aligned only to start the members below on a new line, off pending_'s.
  alignas(kCacheLine) bool batch_ready_ = false;  // the turn that appended pending_ has ended
  loop::AfterTurn end_of_turn_;
  std::atomic<std::uint64_t> committed_{0};  // written under mutex_, read without
  std::multimap<std::uint64_t, std::function<void()>> waiters_;
  bool retrying_ = false;  // a write failed: batches go to the thread until one succeeds
  bool closing_ = false;   // under mutex_ and pending_mutex_: either suffices to read it

  // Snapshots.
  SnapshotSource snapshots_;
  std::size_t changes_since_snapshot_ = 0;  // under writer_
  bool compacting_ = false;  // written under writer_ and mutex_: either suffices to read it
  // The journal's thread's alone.
  bool snapshot_begun_ = false;         // the new generation takes the batches
  std::uint64_t snapshot_through_ = 0;  // the snapshot covers changes up to this seq
  std::uint64_t snapshot_after_ = 0;    // LSN of the last record written into it

  std::optional<Checkpointer> checkpointer_;  // with a database, until close(); under writer_
  std::thread thread_;
};

}  // namespace herd::store
