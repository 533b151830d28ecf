// One generation of a store's records: an SQLite file in WAL mode holding a snapshot of
// the store as of the generation's start, every batch written since, and the neighbours'
// cursors as those batches moved them.
//
// A store (database.hpp) is an anchor file and one or more live generations. Batches go to
// the newest; a snapshot starts a new one, and once that one's snapshot is whole and
// synced the older generations are deleted as whole files. Dropping what a snapshot
// replaces row by row read, zeroed and rewrote every page it had filled, while holding the
// writer that batches need (docs/durability-costs.md); deleting a file costs nothing of
// the kind.
//
// Not thread-safe but for checkpoint_due() and checkpoint(), which may run on another
// thread than the writes, with a connection of their own.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "store/change.hpp"
#include "store/change_log.hpp"
#include "store/sqlite.hpp"
#include "store/store_error.hpp"
#include "store/sync.hpp"

namespace herd::store {

// What the files of a store hold, folded in as each is read, oldest first.
struct Folded {
  ChangeFold fold;
  std::map<std::string, StoredCursor> cursors;  // by neighbour; a later file's replace
  std::size_t unreadable = 0;                   // lines that could not be read, skipped
  std::size_t logged_changes = 0;               // record changes in log rows, not snapshots
};

class Generation {
 public:
  static constexpr int kCheckpointPages = 10'000;  // of SQLite's default 4 KiB
  static constexpr std::uint64_t kCheckpointBytes = std::uint64_t{kCheckpointPages} * 4096;

  struct Create {};
  // Makes `file`, which must not exist, for store `store_id`, and syncs it and its
  // directory. Throws sqlite::Failure.
  Generation(Create, std::filesystem::path file, const char* vfs, const std::string& store_id,
             std::uint64_t number, Sync sync);
  // Opens `file`, checks that it is sound and is generation `number` of store `store_id`,
  // and folds what it holds into `into`. Throws sqlite::Failure.
  Generation(std::filesystem::path file, const char* vfs, const std::string& store_id,
             std::uint64_t number, Sync sync, Folded& into);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Folds the snapshot, log and cursors tables of `db` into `into`: a generation's, or
  // those of a data file written before generations (format 2).
  static void read_tables(sqlite3* db, Folded& into);
  // The cursors table alone. Throws sqlite::Failure.
  static void read_cursors(sqlite3* db, std::map<std::string, StoredCursor>& into);

  // The neighbours' cursors as this generation has them. Throws StoreError.
  std::map<std::string, StoredCursor> cursors() const;

  // Each in one transaction; throws StoreError (disk full, say), rolled back.
  void write(const ChangeBatch& batch);
  void write_snapshot(std::span<const StoredRecord> records);
  void write_cursors(const std::map<std::string, StoredCursor>& cursors);

  // Syncs the file, its WAL and their directory, so that what is committed survives a
  // power cut.
  void sync_to_disk() const;

  // Closing the file will leave its WAL alone: it is about to be deleted, or was refused.
  void retire() noexcept;

  // As Database's (database.hpp).
  bool checkpoint_due() const {
    return wal_pages_.load(std::memory_order_relaxed) >=
           checkpoint_at_.load(std::memory_order_relaxed);
  }
  bool checkpoint();

  const std::filesystem::path& file() const { return file_; }
  std::uint64_t number() const { return number_; }

 private:
  void check_file(const std::string& store_id);
  void ready_for_writes(Sync sync);
  void prepare_statements();
  template <typename Body>
  void transaction(Body&& body);

  std::filesystem::path file_;
  std::uint64_t number_;
  const char* vfs_;
  // Declared before the statements, so it is closed after they are finalized.
  sqlite::Connection db_;
  // Used only by checkpoint(). Declared after db_, so that db_ is the last connection to
  // close: it then copies the WAL into the file and deletes it.
  sqlite::Connection checkpointer_;
  sqlite::TransactionStatements transaction_;
  sqlite::Statement log_;
  sqlite::Statement snapshot_;
  sqlite::Statement cursor_;
  std::string encoded_;  // reused for every snapshot row written
  // The WAL's pages, as SQLite's hook reports after each commit (they count from 0 again
  // at the first commit after a checkpoint that copied every page), and 0 once a
  // checkpoint has run.
  std::atomic<int> wal_pages_{0};
  std::atomic<int> checkpoint_at_{kCheckpointPages};
};

}  // namespace herd::store
