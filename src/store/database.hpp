// A server's records on disk: one SQLite file in WAL mode.
//
// Opening reads everything back (records, neighbours' cursors, the store's identity) and
// starts a new boot. A file that SQLite cannot read, or that fails its integrity check, is
// moved aside and replaced by an empty one: the server starts, says what it found, and
// its neighbours send it everything (docs/durability.md). write() applies a batch of
// changes in one transaction; with Sync::kWritten it returns once SQLite has written the
// transaction to the operating system (it survives the process being killed), with
// Sync::kSynced once it is on disk (fsync; it survives power loss). No other process can
// use the file while the Database is open. Checkpoints have a connection of their own, so
// that a thread may copy the WAL into the file while another commits.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/change.hpp"
#include "store/change_log.hpp"
#include "store/wal_coalescing_vfs.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace herd::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Sync { kWritten, kSynced };

// What opening found.
struct Contents {
  std::string store_id;    // 16 lower-case hex digits, made when the file was created
  std::uint64_t boot = 0;  // 1 for a new file, one more at every open
  std::vector<StoredRecord> records;
  std::vector<StoredCursor> cursors;
  std::size_t unreadable = 0;      // lines of the file that could not be read, skipped
  std::size_t logged_changes = 0;  // record changes written since the last snapshot
  std::string report;  // one sentence for the log: what was found, what was done about it
};

// A new random store id: 16 lower-case hex digits. Throws if the system has no random
// numbers to give.
std::string make_store_id();

class Database {
 public:
  static constexpr int kCheckpointPages = 10'000;  // of SQLite's default 4 KiB
  static constexpr std::uint64_t kCheckpointBytes = std::uint64_t{kCheckpointPages} * 4096;
  // What finish_snapshot() drops a call: deleting a row reads every page it fills, and
  // these took a millisecond or so under load (docs/durability.md).
  static constexpr std::uint64_t kChangesAPiece = 4096;
  static constexpr std::int64_t kSnapshotRowsAPiece = 1;

  // Opens or creates `file` (and its directory). Throws StoreError, naming the file, only
  // when no usable file can be had at all (directory not writable, say), or when what is
  // there may well be sound but cannot be used now (read-only, locked by another process,
  // disk full) or is not a regular file; such a thing is left where it is.
  Database(const std::filesystem::path& file, Sync sync, Contents& contents);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies `batch` in one transaction. Throws StoreError (disk full, say); the
  // transaction is then rolled back and may be retried.
  void write(const ChangeBatch& batch);

  // Starts a new snapshot; pieces of an abandoned one are dropped with the old snapshot.
  void begin_snapshot() { first_snapshot_row_ = 0; }
  // A piece of a new snapshot of the store, in a transaction of its own. Until
  // finish_snapshot(), the old snapshot and the rows since it stay: a crash part-way
  // loses nothing.
  void write_snapshot(std::span<const StoredRecord> records);
  // The new snapshot holds every record as of change `through`: the old snapshot and the
  // rows of changes up to `through` go, oldest first, a piece a call (a transaction of
  // about kChangesAPiece changes or kSnapshotRowsAPiece rows), so that no call holds the
  // file for long. Returns true once all of it is gone; call again until then. A crash
  // between two calls loses nothing (docs/durability.md).
  [[nodiscard]] bool finish_snapshot(std::uint64_t through);

  // Record changes in the rows since the last snapshot, as found at open.
  std::size_t logged_changes() const { return logged_changes_; }

  Sync sync() const { return sync_; }

  // The WAL has grown enough to be copied into the file: checkpoint() is due, away from
  // the commits that wait for it. Either may be called on another thread than write()'s,
  // and checkpoint() while a write() runs. checkpoint() returns false when it raced a
  // commit and did nothing (SQLite found the WAL's index changing under it): it may be
  // tried again at once. It throws StoreError on failure; the next is then due after as
  // many pages again.
  bool checkpoint_due() const {
    return wal_pages_.load(std::memory_order_relaxed) >=
           checkpoint_at_.load(std::memory_order_relaxed);
  }
  bool checkpoint();

  const std::filesystem::path& file() const { return file_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept;
    void operator()(sqlite3_stmt* statement) const noexcept;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, Closer>;
  using Connection = std::unique_ptr<sqlite3, Closer>;

  void create_new(Sync sync, Contents& found);
  // A connection to the file, through kVfs (database.cpp); throws what SQLite refused.
  Connection open_connection(int flags) const;
  void connect(int flags);
  // Once the file is read: connects the checkpointer, and sizes the writer's cache.
  void ready_for_writes();
  void open_existing(Sync sync, bool zero_length, Contents& found);
  void create_tables(Sync sync, Contents& found);
  void prepare_statements();
  void set_sync(Sync sync);
  void abandon() noexcept;
  void roll_back() noexcept;
  template <typename Body>
  void transaction(Body&& body);

  std::filesystem::path file_;
  Sync sync_;
  // Declared before the connections, so that it outlives them.
  WalCoalescingVfs vfs_;
  // Declared before the statements, so it is closed after they are finalized.
  Connection db_;
  // Used only by checkpoint(). Declared after db_, so that db_ is the last connection to
  // close: it then copies the WAL into the file and deletes it.
  Connection checkpointer_;
  Statement begin_;
  Statement commit_;
  Statement rollback_;
  Statement log_;
  Statement snapshot_;
  Statement oldest_snapshot_;
  Statement drop_snapshot_;
  Statement oldest_log_;
  Statement drop_log_;
  Statement cursor_;
  std::string encoded_;                  // reused for every row written
  std::int64_t first_snapshot_row_ = 0;  // of the snapshot being written; 0: none
  std::size_t logged_changes_ = 0;
  // The WAL's pages, as SQLite's hook reports after each commit (they count from 0 again
  // at the first commit after a checkpoint that copied every page), and 0 once a
  // checkpoint has run.
  std::atomic<int> wal_pages_{0};
  std::atomic<int> checkpoint_at_{kCheckpointPages};
};

}  // namespace herd::store
