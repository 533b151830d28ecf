// A server's records on disk: an anchor file, `<name>.db`, and the generations it names
// (generation.hpp), each an SQLite file in WAL mode.
//
// The anchor holds the store's identity, its boot count and the number of its oldest live
// generation. Opening reads everything back (records, neighbours' cursors, the store's
// identity) and starts a new boot. A store that SQLite cannot read, or that fails its
// integrity check, is moved aside, its every file together, and replaced by an empty one:
// the server starts, says what it found, and its neighbours send it everything
// (docs/durability.md). write() applies a batch of changes in one transaction, in the
// newest generation; with Sync::kWritten it returns once SQLite has written the
// transaction to the operating system (it survives the process being killed), with
// Sync::kSynced once it is on disk (fsync; it survives power loss). No other process can
// use the files while the Database is open. Checkpoints have a connection of their own, so
// that a thread may copy the WAL into the file while another commits.
//
// A snapshot starts a new generation and writes the store into it, while batches go on
// going there too; once it is whole and synced, the anchor names it the oldest live one
// and the older generations' files are deleted. A crash at any point loses nothing:
// opening folds every live generation, oldest first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "store/change.hpp"
#include "store/change_log.hpp"
#include "store/generation.hpp"
#include "store/sqlite.hpp"
#include "store/store_error.hpp"
#include "store/sync.hpp"
#include "store/wal_coalescing_vfs.hpp"

namespace herd::store {

// What opening found.
struct Contents {
  std::string store_id;    // 16 lower-case hex digits, made when the file was created
  std::uint64_t boot = 0;  // 1 for a new file, one more at every open
  std::vector<StoredRecord> records;
  std::vector<StoredCursor> cursors;
  std::size_t unreadable = 0;      // lines of the files that could not be read, skipped
  std::size_t logged_changes = 0;  // record changes written since the last snapshot
  std::string report;  // one sentence for the log: what was found, what was done about it
};

// A new random store id: 16 lower-case hex digits. Throws if the system has no random
// numbers to give.
std::string make_store_id();

class Database {
 public:
  static constexpr std::uint64_t kCheckpointBytes = Generation::kCheckpointBytes;

  // Opens or creates `file` (and its directory) and its generations. Throws StoreError,
  // naming the file, only when no usable store can be had at all (directory not writable,
  // say), or when what is there may well be sound but cannot be used now (read-only,
  // locked by another process, disk full) or is not a regular file; such a thing is left
  // where it is.
  Database(const std::filesystem::path& file, Sync sync, Contents& contents);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies `batch` in one transaction. Throws StoreError (disk full, say); the
  // transaction is then rolled back and may be retried.
  void write(const ChangeBatch& batch);

  // A snapshot, in four calls, each of which throws StoreError on failure; the snapshot is
  // then abandoned, and the next one starts again with prepare_snapshot().
  //
  // Makes the next generation's file (synced, so a few milliseconds), unless an abandoned
  // snapshot made it already. May run while a write() does, on another thread.
  void prepare_snapshot();
  // Batches go to the new generation from now on, with the neighbours' cursors as they
  // stand. Not while a write() runs.
  void begin_snapshot();
  // A piece of the snapshot, in a transaction of its own. Not while a write() runs.
  void write_snapshot(std::span<const StoredRecord> records);
  // The snapshot holds every record of the store as it was at begin_snapshot(): syncs the
  // new generation, makes it the oldest live one, and deletes the older ones. May run while
  // a write() does, on another thread, but on the thread of the calls above.
  void finish_snapshot();

  // Record changes in the log rows of the live generations, as found at open.
  std::size_t logged_changes() const { return logged_changes_; }

  Sync sync() const { return sync_; }

  // The newest generation's WAL has grown enough to be copied into its file: checkpoint()
  // is due, away from the commits that wait for it. checkpoint_due() is asked as write()
  // is; checkpoint() may be called on another thread, while a write() runs. It returns
  // false when it raced a commit and did nothing (SQLite found the WAL's index changing
  // under it): it may be tried again at once. It throws StoreError on failure; the next is
  // then due after as many pages again.
  bool checkpoint_due() const { return newest_->checkpoint_due(); }
  bool checkpoint();

  const std::filesystem::path& file() const { return file_; }

 private:
  // Opens the anchor file, through open_wal(), with every write synced.
  void open_anchor(int flags);
  void open_existing(bool zero_length, Contents& found);
  void create_new(Contents& found);
  void create_anchor(Contents& found);
  // `numbers`: of the generation files there, in order (file_set.hpp).
  void open_generations(std::uint64_t first, const std::vector<std::uint64_t>& numbers,
                        Folded& folded);
  // Makes generation `number`'s file; throws sqlite::Failure naming it.
  std::shared_ptr<Generation> make_generation(std::uint64_t number) const;
  void abandon() noexcept;

  std::filesystem::path file_;
  Sync sync_;
  // Declared before the connections, so that it outlives them.
  WalCoalescingVfs vfs_;
  sqlite::Connection anchor_;
  std::string store_id_;
  // Tables of a store written before generations (format 2), read at open and dropped by
  // the first snapshot.
  bool anchor_has_records_ = false;
  // The live generations, oldest first: the last takes the batches.
  std::vector<std::shared_ptr<Generation>> live_;
  std::shared_ptr<Generation> next_;  // made by prepare_snapshot() and not yet begun
  // live_.back(), for write() and checkpoint_due(); changed by begin_snapshot() alone, with
  // newest_mutex_ held for checkpoint(), which may run on another thread.
  std::shared_ptr<Generation> newest_;
  std::mutex newest_mutex_;
  std::size_t logged_changes_ = 0;
};

}  // namespace herd::store
