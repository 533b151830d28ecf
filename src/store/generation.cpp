#include "store/generation.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "store/file_set.hpp"

namespace herd::store {
namespace {

using sqlite::damaged;
using sqlite::exec;
using sqlite::step;
using sqlite::Use;

void write_cursor(sqlite3* db, sqlite3_stmt* upsert, const StoredCursor& cursor) {
  Use(db, upsert).text(cursor.neighbour).text(cursor.store_id).integer(cursor.lsn).run();
}

}  // namespace

Generation::Generation(Create, std::filesystem::path file, const char* vfs,
                       const std::string& store_id, std::uint64_t number, Sync sync)
    : file_(std::move(file)), number_(number), vfs_(vfs) {
  // Made under another name and renamed into place once whole and synced, so that a file
  // with a generation's name is always one: a crash part-way leaves only the other name,
  // which the next attempt replaces. Its tables are made in SQLite's rollback mode, as a
  // WAL beside the other name would not follow the rename.
  const std::filesystem::path making = with_suffix(file_, ".new");
  remove_generation(making);
  try {
    {
      const sqlite::Connection made =
          sqlite::open(making, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs_);
      sqlite3* db = made.get();
      exec(db, "PRAGMA synchronous=FULL");
      exec(db,
           "BEGIN IMMEDIATE;"
           "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
           "CREATE TABLE log(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);"
           "CREATE TABLE snapshot(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
           "CREATE TABLE cursors(neighbour TEXT PRIMARY KEY, store_id TEXT NOT NULL,"
           " lsn INTEGER NOT NULL) WITHOUT ROWID;"
           "INSERT INTO meta(key, value) VALUES('store_id', '" +
               store_id + "'), ('generation', '" + std::to_string(number) +
               "');"
               "COMMIT;");
    }
    std::error_code error;
    std::filesystem::rename(making, file_, error);
    if (error) {
      throw sqlite::Failure(SQLITE_CANTOPEN,
                            "cannot rename " + making.string() + ": " + error.message());
    }
    sync_directory(file_);
    db_ = sqlite::open_wal(file_, SQLITE_OPEN_READWRITE, vfs_);
    ready_for_writes(sync);
  } catch (...) {
    retire();
    remove_generation(making);
    throw;
  }
}

Generation::Generation(std::filesystem::path file, const char* vfs, const std::string& store_id,
                       std::uint64_t number, Sync sync, Folded& into)
    : file_(std::move(file)), number_(number), vfs_(vfs) {
  try {
    db_ = sqlite::open_wal(file_, SQLITE_OPEN_READWRITE, vfs_);
    check_file(store_id);
    read_tables(db_.get(), into);
    ready_for_writes(sync);
  } catch (...) {
    retire();  // a file refused is left as it was found
    throw;
  }
}

Generation::~Generation() = default;

void Generation::check_file(const std::string& store_id) {
  sqlite3* db = db_.get();
  sqlite::quick_check(db);
  const sqlite::Statement meta = sqlite::prepare(db, "SELECT key, value FROM meta");
  bool ours = false;
  bool numbered = false;
  while (step(db, meta.get())) {
    const std::string key = sqlite::text_column(db, meta.get(), 0, "a meta key");
    const std::string value = sqlite::text_column(db, meta.get(), 1, "meta " + key);
    if (key == "store_id") {
      if (value != store_id) {
        std::string what = "store id '" + value + "', not '";
        what.append(store_id).append("'");
        damaged(what);
      }
      ours = true;
    } else if (key == "generation") {
      if (value != std::to_string(number_)) {
        damaged("generation '" + value + "', not '" + std::to_string(number_) + "'");
      }
      numbered = true;
    }
  }
  if (!ours) damaged("no store id in meta");
  if (!numbered) damaged("no generation in meta");
}

void Generation::read_tables(sqlite3* db, Folded& into) {
  // The snapshot first, then the rows written since; the fold keeps each client's newest
  // change whatever the order.
  const auto read_rows = [&](std::string_view sql, std::string_view what, bool count) {
    const sqlite::Statement rows = sqlite::prepare(db, sql);
    while (step(db, rows.get())) {
      const std::string_view row = sqlite::blob_column(rows.get(), 0, what);
      into.unreadable += into.fold.add(row);
      if (count) {
        into.logged_changes += static_cast<std::size_t>(std::count(row.begin(), row.end(), '\n'));
      }
    }
  };
  read_rows("SELECT data FROM snapshot ORDER BY id", "a snapshot row", false);
  read_rows("SELECT data FROM log ORDER BY seq", "a log row", true);
  read_cursors(db, into.cursors);
}

void Generation::read_cursors(sqlite3* db, std::map<std::string, StoredCursor>& into) {
  const sqlite::Statement cursors =
      sqlite::prepare(db, "SELECT neighbour, store_id, lsn FROM cursors");
  while (step(db, cursors.get())) {
    StoredCursor cursor;
    cursor.neighbour = sqlite::text_column(db, cursors.get(), 0, "a cursor's neighbour");
    cursor.store_id = sqlite::text_column(db, cursors.get(), 1, "a cursor's store id");
    cursor.lsn = sqlite::lsn_column(cursors.get(), 2, "a cursor's lsn");
    into[cursor.neighbour] = std::move(cursor);
  }
}

std::map<std::string, StoredCursor> Generation::cursors() const {
  std::map<std::string, StoredCursor> found;
  try {
    read_cursors(db_.get(), found);
  } catch (const sqlite::Failure& failure) {
    throw StoreError("cannot read data file " + file_.string() + ": " + failure.what());
  }
  return found;
}

void Generation::ready_for_writes(Sync sync) {
  sqlite3* db = db_.get();
  // Checkpoints (copying the WAL into the file, with an fsync) are the costliest part of a
  // busy journal. They are not left to SQLite, which would make the commit that crosses
  // the threshold pay for one: the hook counts the WAL's pages, and a commit that finds
  // checkpoint_due() asks the checkpointer (checkpointer.hpp). At 40 MiB of WAL rather
  // than SQLite's 4 MiB they come ten times less often, and the WAL file is cut back to
  // that size after each.
  sqlite3_wal_hook(
      db,
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<Generation*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
  exec(db, "PRAGMA journal_size_limit=" + std::to_string(kCheckpointBytes));
  exec(db, sync == Sync::kSynced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  prepare_statements();
  checkpointer_ = sqlite::open(file_, SQLITE_OPEN_READWRITE, vfs_);
  // A connection opens the WAL at its first read; a checkpoint needs it open.
  sqlite::single_text(checkpointer_.get(), "SELECT count(*) FROM meta");
  // From now on the pages the writer writes are not read again, so a cache beyond the
  // log's few b-tree pages holds nothing of use. SQLite's 2 MiB default cycles each
  // batch's new pages through cold memory, evicting the loop's own cache lines: 32 KiB cut
  // the written loop's extra L2 misses by about a third (docs/durability-costs.md).
  exec(db, "PRAGMA cache_size=-32");
}

void Generation::prepare_statements() {
  sqlite3* db = db_.get();
  const auto keep = [db](std::string_view sql) {
    return sqlite::prepare(db, sql, SQLITE_PREPARE_PERSISTENT);
  };
  transaction_ = sqlite::TransactionStatements::prepare(db);
  log_ = keep("INSERT INTO log(seq, data) VALUES(?, ?)");
  snapshot_ = keep("INSERT INTO snapshot(data) VALUES(?)");
  cursor_ = keep(
      "INSERT INTO cursors(neighbour, store_id, lsn) VALUES(?, ?, ?)"
      " ON CONFLICT(neighbour) DO UPDATE SET store_id = excluded.store_id, lsn = excluded.lsn");
}

void Generation::retire() noexcept {
  sqlite::leave_as_found(db_.get());
  sqlite::leave_as_found(checkpointer_.get());
}

template <typename Body>
void Generation::transaction(Body&& body) {
  sqlite3* db = db_.get();
  try {
    sqlite::transaction(db, transaction_, [&] { body(db); });
  } catch (const sqlite::Failure& failure) {
    throw StoreError("cannot write data file " + file_.string() + ": " + failure.what());
  }
}

void Generation::write(const ChangeBatch& batch) {
  if (batch.empty()) return;
  transaction([&](sqlite3* db) {
    const std::string& lines = batch.record_lines();
    if (!lines.empty()) Use(db, log_.get()).integer(batch.last_seq()).blob(lines).run();
    for (const StoredCursor& cursor : batch.cursors()) write_cursor(db, cursor_.get(), cursor);
  });
}

void Generation::write_snapshot(std::span<const StoredRecord> records) {
  encoded_.clear();
  encode_records(records, encoded_);
  transaction([&](sqlite3* db) { Use(db, snapshot_.get()).blob(encoded_).run(); });
}

void Generation::write_cursors(const std::map<std::string, StoredCursor>& cursors) {
  if (cursors.empty()) return;
  transaction([&](sqlite3* db) {
    for (const auto& [neighbour, cursor] : cursors) write_cursor(db, cursor_.get(), cursor);
  });
}

void Generation::sync_to_disk() const {
  // A WAL that a checkpoint has deleted holds nothing. The directory holds the WAL's name,
  // made after the file's was synced.
  for (const auto& file : {file_, with_suffix(file_, "-wal")}) {
    if (!sync_file(file) && present(file)) throw StoreError("cannot sync " + file.string());
  }
  sync_directory(file_);
}

// PASSIVE: copies what it can without waiting for the writer, which goes on appending to
// the WAL meanwhile. The writer starts the WAL from its beginning again at its first
// commit after a checkpoint that copied every page; until then the hook keeps reporting
// the pages of the whole WAL, and the checkpoint stays due. SQLITE_BUSY comes of reading
// the WAL's index while a commit rewrites it, which back-to-back commits make likely.
bool Generation::checkpoint() {
  const int code = sqlite3_wal_checkpoint_v2(checkpointer_.get(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (code == SQLITE_BUSY) return false;
  if (code != SQLITE_OK) {
    checkpoint_at_ = wal_pages_ + kCheckpointPages;
    throw StoreError("cannot checkpoint data file " + file_.string() + ": " +
                     sqlite3_errmsg(checkpointer_.get()));
  }
  wal_pages_ = 0;
  checkpoint_at_ = kCheckpointPages;
  return true;
}

}  // namespace herd::store
