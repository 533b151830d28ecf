#include "store/database.hpp"

#include "protocol/catch_up.hpp"
#include "store/change_log.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

namespace herd::store {
namespace {

namespace fs = std::filesystem;

// How long a statement waits for a lock held by the other connection of this process
// (the checkpointer's) before it fails.
constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kFormat = "2";
constexpr std::uintmax_t kSmallestDatabase = 512;  // SQLite's smallest page
// One server a file, with two connections: SQLite's "unix-excl" takes an exclusive lock
// on the file at the first read and holds it until the last connection closes, so a
// second server given the same file cannot use it, while the checkpointer's connection in
// this process can. It keeps the WAL's index in this process's memory, not in a -shm file,
// which saves the lock calls SQLite makes on that file around each transaction (six a
// commit). SQLite's exclusive locking mode would do the rest but not allow the second
// connection. Both connections reach it through a layer that writes a transaction's WAL
// frames in one call (wal_coalescing_vfs.hpp).
constexpr const char* kVfs = "unix-excl";

// What SQLite, or a check of ours, refused while opening; `code` is SQLite's result code,
// SQLITE_CORRUPT for a failed check of ours.
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

[[noreturn]] void fail(sqlite3* db, int code) {
  throw Failure(code, sqlite3_errmsg(db));
}
[[noreturn]] void damaged(const std::string& what) {
  throw Failure(SQLITE_CORRUPT, what);
}

void check(sqlite3* db, int code) {
  if (code != SQLITE_OK) fail(db, code);
}

// Whether a failure says the file is damaged. The others leave a file that may be sound but
// cannot be used now (another process holds it, the disk is full, no permission): moving it
// aside would throw its records away for nothing.
bool means_damage(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_FULL:
    case SQLITE_INTERRUPT:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return false;
    default:
      return true;
  }
}

struct Finalize {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using Query = std::unique_ptr<sqlite3_stmt, Finalize>;

Query prepare(sqlite3* db, std::string_view sql, unsigned flags = 0) {
  sqlite3_stmt* raw = nullptr;
  const int code =
      sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
  Query query(raw);
  check(db, code);
  return query;
}

// True for a row, false once done.
bool step(sqlite3* db, sqlite3_stmt* statement) {
  const int code = sqlite3_step(statement);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  fail(db, code);
}

void exec(sqlite3* db, const std::string& sql) {
  check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr));
}

// The first column of the first row, "" if there is none.
std::string single_text(sqlite3* db, std::string_view sql) {
  const Query query = prepare(db, sql);
  if (!step(db, query.get())) return "";
  const auto* text = sqlite3_column_text(query.get(), 0);
  if (text == nullptr) return "";
  return reinterpret_cast<const char*>(text);
}

// Column readers for rows of a file that may not be ours: a value of the wrong type is damage,
// not something to convert.
std::string text_column(sqlite3* db, sqlite3_stmt* row, int column, std::string_view what) {
  if (sqlite3_column_type(row, column) != SQLITE_TEXT) {
    damaged(std::string(what) + " is not text");
  }
  const auto* text = sqlite3_column_text(row, column);
  if (text == nullptr) fail(db, SQLITE_NOMEM);
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(row, column))};
}

// LSNs are kept as the bit pattern of a uint64, so those above INT64_MAX read back negative.
std::uint64_t lsn_column(sqlite3_stmt* row, int column, std::string_view what) {
  if (sqlite3_column_type(row, column) != SQLITE_INTEGER) {
    damaged(std::string(what) + " is not an integer");
  }
  return static_cast<std::uint64_t>(sqlite3_column_int64(row, column));
}

std::string new_store_id() {
  try {
    return make_store_id();
  } catch (const std::exception& e) {
    throw Failure(SQLITE_CANTOPEN, std::string("no random numbers for a store id: ") + e.what());
  }
}

// One use of a kept statement: bound, stepped once, then reset and unbound whatever
// happens, so that it never holds on to the caller's strings (bound SQLITE_STATIC).
class Use {
 public:
  Use(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  ~Use() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(const std::string& value) {
    check(db_, sqlite3_bind_text64(statement_, ++index_, value.data(), value.size(), SQLITE_STATIC,
                                   SQLITE_UTF8));
    return *this;
  }
  Use& blob(const std::string& value) {
    check(db_,
          sqlite3_bind_blob64(statement_, ++index_, value.data(), value.size(), SQLITE_STATIC));
    return *this;
  }
  Use& integer(std::uint64_t value) {
    check(db_, sqlite3_bind_int64(statement_, ++index_, static_cast<sqlite3_int64>(value)));
    return *this;
  }
  void run() {
    const int code = sqlite3_step(statement_);
    if (code != SQLITE_DONE) fail(db_, code);
  }
  // The first column of the one row a query gives, nullopt for NULL.
  std::optional<std::int64_t> integer_result() {
    const int code = sqlite3_step(statement_);
    if (code != SQLITE_ROW) fail(db_, code == SQLITE_DONE ? SQLITE_CORRUPT : code);
    if (sqlite3_column_type(statement_, 0) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(statement_, 0);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  int index_ = 0;
};

fs::path with_suffix(const fs::path& file, std::string_view suffix) {
  return fs::path(file.native() + std::string(suffix));
}

bool present(const fs::path& path) {
  std::error_code error;
  return fs::exists(fs::symlink_status(path, error));
}

// SQLite syncs the directory when it creates its journals but not the database file itself,
// and a rename is durable only once its directory is; without this a power cut could bring
// back the damaged file, or lose the new one. Best effort: there is nothing to do on failure.
void sync_directory(const fs::path& file) {
  const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The siblings SQLite may leave beside a file, which belong to it alone: left beside a new
// file they would be taken as its own.
constexpr std::array<std::string_view, 3> kSiblings = {"-wal", "-shm", "-journal"};

// Renames the file (unless `with_file` is false) and its siblings, those that exist, to
// `<file>.damaged-<N>` (and `<file>.damaged-<N>-wal`, ...), N the smallest number with none
// of those names taken. Returns what went where.
std::vector<std::pair<fs::path, fs::path>> move_aside(const fs::path& file, bool with_file) {
  fs::path target;
  for (unsigned n = 1;; ++n) {
    target = with_suffix(file, ".damaged-" + std::to_string(n));
    bool taken = present(target);
    for (const std::string_view sibling : kSiblings) {
      taken = taken || present(with_suffix(target, sibling));
    }
    if (!taken) break;
  }
  std::vector<std::pair<fs::path, fs::path>> moves;
  if (with_file && present(file)) moves.emplace_back(file, target);
  for (const std::string_view sibling : kSiblings) {
    if (present(with_suffix(file, sibling))) {
      moves.emplace_back(with_suffix(file, sibling), with_suffix(target, sibling));
    }
  }
  for (const auto& [from, to] : moves) {
    std::error_code error;
    fs::rename(from, to, error);
    if (error) {
      throw StoreError("cannot move " + from.string() + " aside to " + to.string() + ": " +
                       error.message());
    }
  }
  if (!moves.empty()) sync_directory(file);
  return moves;
}

// Siblings beside a file that is missing or empty are not SQLite's to replay: it deletes a
// WAL beside an empty file. They are kept instead, in case someone wants to look.
std::string move_leftovers_aside(const fs::path& file) {
  std::string said;
  for (const auto& [from, to] : move_aside(file, false)) {
    said += (said.empty() ? " (moved the leftover " : ", ") + from.string() + " to " + to.string();
  }
  if (!said.empty()) said += ")";
  return said;
}

}  // namespace

void Database::Closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

void Database::Closer::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

Database::Database(const std::filesystem::path& file, Sync sync, Contents& contents)
    : file_(file), sync_(sync), vfs_(kVfs) {
  contents = Contents{};
  const std::string name = file.string();
  if (file.has_parent_path()) {
    std::error_code error;
    fs::create_directories(file.parent_path(), error);
    if (error) {
      throw StoreError("cannot create directory " + file.parent_path().string() +
                       " for data file " + name + ": " + error.message());
    }
  }

  std::error_code error;
  const fs::file_status status = fs::status(file, error);
  if (error && status.type() != fs::file_type::not_found) {
    throw StoreError("cannot use data file " + name + ": " + error.message());
  }

  Contents found;
  if (status.type() == fs::file_type::not_found) {
    const std::string leftovers = move_leftovers_aside(file);
    create_new(sync, found);
    found.report = "data file " + name + " did not exist; created it, empty" + leftovers;
  } else {
    // Anything else (a directory, a device) is a mistake in the configuration, not damage,
    // and not ours to move.
    if (!fs::is_regular_file(status)) {
      throw StoreError("cannot use data file " + name + ": not a regular file");
    }
    const std::uintmax_t size = fs::file_size(file, error);
    if (error) throw StoreError("cannot use data file " + name + ": " + error.message());
    const bool zero_length = size == 0;
    const std::string leftovers = zero_length ? move_leftovers_aside(file) : "";
    try {
      // SQLite takes a file shorter than a page for an empty one and deletes its WAL.
      if (size > 0 && size < kSmallestDatabase) {
        damaged("only " + std::to_string(size) + " bytes long");
      }
      open_existing(sync, zero_length, found);
      found.report += leftovers;
    } catch (const Failure& failure) {
      abandon();
      if (!means_damage(failure.code())) {
        const bool held = (failure.code() & 0xff) == SQLITE_BUSY;
        throw StoreError("cannot use data file " + name + ": " + failure.what() +
                         (held ? " (another process has it: a second server with this name "
                                 "and store.dir?)"
                               : ""));
      }
      std::string moved_to = "nowhere, it had gone";
      for (const auto& [from, to] : move_aside(file, true)) {
        if (from == file) moved_to = to.string();
      }
      found = Contents{};
      create_new(sync, found);
      found.report = "data file " + name + " is damaged (" + failure.what() + "); moved it to " +
                     moved_to + " and started empty";
    }
  }
  ready_for_writes();
  logged_changes_ = found.logged_changes;
  contents = std::move(found);
}

Database::~Database() = default;

void Database::create_new(Sync sync, Contents& found) {
  try {
    connect(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    create_tables(sync, found);
  } catch (const Failure& failure) {
    abandon();
    throw StoreError("cannot create data file " + file_.string() + ": " + failure.what());
  }
}

Database::Connection Database::open_connection(int flags) const {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(file_.c_str(), &raw, flags, vfs_.name());
  Connection connection(raw);
  check(raw, code);
  return connection;
}

void Database::connect(int flags) {
  db_ = open_connection(flags);
  sqlite3* raw = db_.get();
  if (sqlite3_db_readonly(raw, "main") == 1) throw Failure(SQLITE_READONLY, "it is read-only");
  // The first read takes the file's lock. Only another process can hold it, until that
  // process exits, so waiting would not help: a second server is refused at once.
  check(raw, sqlite3_busy_timeout(raw, 0));
  const std::string mode = single_text(raw, "PRAGMA journal_mode=WAL");
  if (mode != "wal") {
    throw Failure(SQLITE_CANTOPEN, "cannot switch it to WAL mode (it stays in " + mode + ")");
  }
  check(raw, sqlite3_busy_timeout(raw, kBusyTimeoutMs));
  // Checkpoints (copying the WAL into the file, with an fsync) are the costliest part of a
  // busy journal. They are not left to SQLite, which would make the commit that crosses
  // the threshold pay for one: the hook counts the WAL's pages, and a commit that finds
  // checkpoint_due() asks the checkpointer (checkpointer.hpp). At 40 MiB of WAL rather
  // than SQLite's 4 MiB they come ten times less often, and the WAL file is cut back to
  // that size after each.
  sqlite3_wal_hook(
      raw,
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<Database*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
  exec(raw, "PRAGMA journal_size_limit=" + std::to_string(kCheckpointBytes));
  // Deleted rows are zeroed, and so are the pages they free: a location that a snapshot
  // drops is gone from the file, not left for whoever copies it. Debian builds SQLite so;
  // saying it here makes every build do it. It writes more, off the event loop, and
  // measured no slower (docs/durability-costs.md).
  exec(raw, "PRAGMA secure_delete=ON");
}

void Database::ready_for_writes() {
  try {
    checkpointer_ = open_connection(SQLITE_OPEN_READWRITE);
    // A connection opens the WAL at its first read; a checkpoint needs it open.
    single_text(checkpointer_.get(), "SELECT count(*) FROM meta");
    // From now on the pages the writer writes are read again only when a snapshot drops
    // them, so a cache beyond the log's few b-tree pages holds nothing of use. SQLite's
    // 2 MiB default cycles each batch's new pages through cold memory, evicting the
    // loop's own cache lines: 32 KiB cut the written loop's extra L2 misses by about a
    // third, with no more reads or writes of the file (docs/durability-costs.md).
    exec(db_.get(), "PRAGMA cache_size=-32");
  } catch (const Failure& failure) {
    abandon();
    throw StoreError("cannot use data file " + file_.string() + ": " + failure.what());
  }
}

// PASSIVE: copies what it can without waiting for the writer, which goes on appending to
// the WAL meanwhile. The writer starts the WAL from its beginning again at its first
// commit after a checkpoint that copied every page; until then the hook keeps reporting
// the pages of the whole WAL, and the checkpoint stays due. SQLITE_BUSY comes of reading
// the WAL's index while a commit rewrites it, which back-to-back commits make likely.
bool Database::checkpoint() {
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

void Database::open_existing(Sync sync, bool zero_length, Contents& found) {
  connect(SQLITE_OPEN_READWRITE);
  sqlite3* db = db_.get();

  {
    const Query check_query = prepare(db, "PRAGMA quick_check");
    std::vector<std::string> answers;
    while (step(db, check_query.get())) {
      const auto* text = sqlite3_column_text(check_query.get(), 0);
      answers.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
    }
    if (answers.size() != 1 || answers.front() != "ok") {
      std::string what = "quick_check: " + (answers.empty() ? "no answer" : answers.front());
      if (answers.size() > 1) what += " and " + std::to_string(answers.size() - 1) + " more";
      damaged(what);
    }
  }

  // A zero-length file is what SQLite itself makes of a new database before its first
  // write, so a crash just after creating one leaves it.
  if (zero_length && single_text(db, "SELECT count(*) FROM sqlite_schema") == "0") {
    create_tables(sync, found);
    found.report =
        "data file " + file_.string() + " was empty (zero length); created the store in it, empty";
    return;
  }

  bool has_format = false;
  bool has_boot = false;
  std::uint64_t boot = 0;
  {
    const Query meta = prepare(db, "SELECT key, value FROM meta");
    while (step(db, meta.get())) {
      const std::string key = text_column(db, meta.get(), 0, "a meta key");
      std::string value = text_column(db, meta.get(), 1, "meta " + key);
      if (key == "format") {
        if (value != kFormat) damaged("format '" + value + "', not '" + std::string(kFormat) + "'");
        has_format = true;
      } else if (key == "store_id") {
        if (!protocol::is_store_id(value)) damaged("malformed store id '" + value + "'");
        found.store_id = std::move(value);
      } else if (key == "boot") {
        const char* end = value.data() + value.size();
        const auto [stop, error] = std::from_chars(value.data(), end, boot);
        if (error != std::errc() || stop != end || boot == 0 ||
            boot == std::numeric_limits<std::uint64_t>::max()) {
          damaged("malformed boot count '" + value + "'");
        }
        has_boot = true;
      }
    }
  }
  if (!has_format) damaged("no format in meta");
  if (found.store_id.empty()) damaged("no store id in meta");
  if (!has_boot) damaged("no boot count in meta");

  {
    // The snapshot first, then the rows written since; the fold keeps each client's newest
    // change whatever the order.
    ChangeFold fold;
    const auto read_rows = [&](std::string_view sql, std::string_view what, bool count) {
      const Query rows = prepare(db, sql);
      while (step(db, rows.get())) {
        if (sqlite3_column_type(rows.get(), 0) != SQLITE_BLOB) {
          damaged(std::string(what) + " is not a blob");
        }
        const auto* data = static_cast<const char*>(sqlite3_column_blob(rows.get(), 0));
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(rows.get(), 0));
        const std::string_view row(data == nullptr ? "" : data, size);
        found.unreadable += fold.add(row);
        if (count) {
          found.logged_changes +=
              static_cast<std::size_t>(std::count(row.begin(), row.end(), '\n'));
        }
      }
    };
    read_rows("SELECT data FROM snapshot", "a snapshot row", false);
    read_rows("SELECT data FROM log ORDER BY seq", "a log row", true);
    found.records = std::move(fold).records();
  }
  {
    const Query cursors = prepare(db, "SELECT neighbour, store_id, lsn FROM cursors");
    while (step(db, cursors.get())) {
      StoredCursor cursor;
      cursor.neighbour = text_column(db, cursors.get(), 0, "a cursor's neighbour");
      cursor.store_id = text_column(db, cursors.get(), 1, "a cursor's store id");
      cursor.lsn = lsn_column(cursors.get(), 2, "a cursor's lsn");
      found.cursors.push_back(std::move(cursor));
    }
  }

  // Prepared before anything is written: a file whose tables do not take our writes is not
  // ours to count a boot in.
  prepare_statements();

  // The boot number tells neighbours this store restarted; were it lost to a power cut, a
  // later boot would repeat it, so it is synced whatever the configured mode.
  exec(db, "PRAGMA synchronous=FULL");
  found.boot = boot + 1;
  {
    const Query update = prepare(db, "UPDATE meta SET value = ? WHERE key = 'boot'");
    Use(db, update.get()).text(std::to_string(found.boot)).run();
  }
  if (sqlite3_changes(db) != 1) damaged("the boot count could not be updated");
  set_sync(sync);

  found.report =
      "data file " + file_.string() + ": " + std::to_string(found.records.size()) + " records" +
      (found.unreadable > 0 ? " (" + std::to_string(found.unreadable) + " unreadable lines skipped)"
                            : "") +
      " and " + std::to_string(found.cursors.size()) + " neighbour cursors, store " +
      found.store_id + ", boot " + std::to_string(found.boot);
}

void Database::create_tables(Sync sync, Contents& found) {
  sqlite3* db = db_.get();
  found.store_id = new_store_id();
  found.boot = 1;
  // Synced whatever the configured mode: a store id lost to a power cut would come back as
  // a different one, and neighbours would take this for another store.
  exec(db, "PRAGMA synchronous=FULL");
  exec(db,
       "BEGIN IMMEDIATE;"
       "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
       "CREATE TABLE log(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);"
       "CREATE TABLE snapshot(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
       "CREATE TABLE cursors(neighbour TEXT PRIMARY KEY, store_id TEXT NOT NULL,"
       " lsn INTEGER NOT NULL) WITHOUT ROWID;"
       "INSERT INTO meta(key, value) VALUES('format', '" +
           std::string(kFormat) + "'), ('store_id', '" + found.store_id +
           "'), ('boot', '1');"
           "COMMIT;");
  set_sync(sync);
  prepare_statements();
  sync_directory(file_);
}

void Database::prepare_statements() {
  sqlite3* db = db_.get();
  const auto keep = [db](std::string_view sql) {
    return Statement(prepare(db, sql, SQLITE_PREPARE_PERSISTENT).release());
  };
  begin_ = keep("BEGIN IMMEDIATE");
  commit_ = keep("COMMIT");
  rollback_ = keep("ROLLBACK");
  log_ = keep("INSERT INTO log(seq, data) VALUES(?, ?)");
  snapshot_ = keep("INSERT INTO snapshot(data) VALUES(?)");
  oldest_snapshot_ = keep("SELECT min(id) FROM snapshot");
  // Rows of an older snapshot are those below the first of the new one.
  drop_snapshot_ = keep("DELETE FROM snapshot WHERE id < ?");
  oldest_log_ = keep("SELECT min(seq) FROM log");
  drop_log_ = keep("DELETE FROM log WHERE seq <= ?");
  cursor_ = keep(
      "INSERT INTO cursors(neighbour, store_id, lsn) VALUES(?, ?, ?)"
      " ON CONFLICT(neighbour) DO UPDATE SET store_id = excluded.store_id, lsn = excluded.lsn");
}

void Database::set_sync(Sync sync) {
  exec(db_.get(), sync == Sync::kSynced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

void Database::abandon() noexcept {
  // Closing the last connection would otherwise checkpoint the WAL into the file and delete
  // it: a file that is damaged, or held by another process, is left as it was found.
  checkpointer_.reset();
  if (db_) sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  log_.reset();
  snapshot_.reset();
  oldest_snapshot_.reset();
  drop_snapshot_.reset();
  oldest_log_.reset();
  drop_log_.reset();
  cursor_.reset();
  db_.reset();
}

void Database::roll_back() noexcept {
  // SQLite has already rolled back after some errors (disk full, I/O); a ROLLBACK then
  // would only fail.
  if (sqlite3_get_autocommit(db_.get()) != 0) return;
  sqlite3_step(rollback_.get());
  sqlite3_reset(rollback_.get());
}

template <typename Body>
void Database::transaction(Body&& body) {
  sqlite3* db = db_.get();
  try {
    Use(db, begin_.get()).run();
    body(db);
    Use(db, commit_.get()).run();
  } catch (const Failure& failure) {
    roll_back();
    throw StoreError("cannot write data file " + file_.string() + ": " + failure.what());
  } catch (...) {
    roll_back();
    throw;
  }
}

void Database::write(const ChangeBatch& batch) {
  if (batch.empty()) return;
  transaction([&](sqlite3* db) {
    const std::string& lines = batch.record_lines();
    if (!lines.empty()) Use(db, log_.get()).integer(batch.last_seq()).blob(lines).run();
    for (const StoredCursor& cursor : batch.cursors()) {
      Use(db, cursor_.get()).text(cursor.neighbour).text(cursor.store_id).integer(cursor.lsn).run();
    }
  });
}

void Database::write_snapshot(std::span<const StoredRecord> records) {
  encoded_.clear();
  encode_records(records, encoded_);
  transaction([&](sqlite3* db) {
    Use(db, snapshot_.get()).blob(encoded_).run();
    if (first_snapshot_row_ == 0) first_snapshot_row_ = sqlite3_last_insert_rowid(db);
  });
}

bool Database::finish_snapshot(std::uint64_t through) {
  // An empty store makes an empty snapshot: every older row goes.
  const std::int64_t first =
      first_snapshot_row_ == 0 ? std::numeric_limits<std::int64_t>::max() : first_snapshot_row_;
  bool finished = false;
  transaction([&](sqlite3* db) {
    // The old snapshot goes before the rows of changes, so that no piece drops an erase
    // whose client an old snapshot row still holds; the rows go oldest first.
    const auto oldest_row = Use(db, oldest_snapshot_.get()).integer_result();
    if (oldest_row && *oldest_row < first) {
      const std::int64_t below = std::min(first, *oldest_row + kSnapshotRowsAPiece);
      Use(db, drop_snapshot_.get()).integer(static_cast<std::uint64_t>(below)).run();
      // Asked, not concluded from `below`: after an empty snapshot `first` bounds nothing.
      const auto next_row = Use(db, oldest_snapshot_.get()).integer_result();
      if (next_row && *next_row < first) return;  // more of the old snapshot to go
    }
    const auto oldest_seq = Use(db, oldest_log_.get()).integer_result();
    if (!oldest_seq || static_cast<std::uint64_t>(*oldest_seq) > through) {
      finished = true;
      return;
    }
    const std::uint64_t up_to =
        std::min(through, static_cast<std::uint64_t>(*oldest_seq) + kChangesAPiece);
    Use(db, drop_log_.get()).integer(up_to).run();
    finished = up_to == through;
  });
  if (finished) first_snapshot_row_ = 0;
  return finished;
}

std::string make_store_id() {
  std::random_device device;
  const std::uint64_t bits = (std::uint64_t{device()} << 32) | std::uint64_t{device()};
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string id(16, '0');
  for (std::size_t i = 0; i < id.size(); ++i) {
    id[id.size() - 1 - i] = kDigits[(bits >> (4 * i)) & 0xf];
  }
  return id;
}

}  // namespace herd::store
