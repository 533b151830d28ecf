#include "store/database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

#include "protocol/catch_up.hpp"
#include "store/file_set.hpp"

namespace herd::store {
namespace {

namespace fs = std::filesystem;

using sqlite::damaged;
using sqlite::exec;
using sqlite::step;
using sqlite::Use;

// "3": an anchor and its generations. "2": one file holding everything, read still and
// turned into an anchor (its tables go with the first snapshot).
constexpr std::string_view kFormat = "3";
constexpr std::string_view kFormatBeforeGenerations = "2";
constexpr std::uintmax_t kSmallestDatabase = 512;  // SQLite's smallest page
// One server a store, with two connections to each live generation: SQLite's "unix-excl"
// takes an exclusive lock on a file at the first read and holds it until the last
// connection closes, so a second server given the same anchor cannot use it, while the
// checkpointer's connection in this process can. It keeps the WAL's index in this
// process's memory, not in a -shm file, which saves the lock calls SQLite makes on that
// file around each transaction (six a commit). SQLite's exclusive locking mode would do
// the rest but not allow the second connection. Every connection reaches it through a
// layer that writes a transaction's WAL frames in one call (wal_coalescing_vfs.hpp).
constexpr const char* kVfs = "unix-excl";

std::string new_store_id() {
  try {
    return make_store_id();
  } catch (const std::exception& e) {
    throw sqlite::Failure(SQLITE_CANTOPEN,
                          std::string("no random numbers for a store id: ") + e.what());
  }
}

std::string said(const Moves& moves, std::string_view what) {
  std::string text;
  for (const auto& [from, to] : moves) {
    text += (text.empty() ? " (" + std::string(what) + " " : ", ") + from.string() + " to " +
            to.string();
  }
  if (!text.empty()) text += ")";
  return text;
}

// Files beside an anchor that is missing or empty are not its: SQLite deletes a WAL beside
// an empty file, and no generation is named yet. They are kept instead, in case someone
// wants to look.
std::string move_leftovers_aside(const fs::path& anchor) {
  return said(move_aside(anchor, false), "moved the leftover");
}

// A failure in one of a store's files, naming it.
sqlite::Failure in_file(const fs::path& file, const sqlite::Failure& failure) {
  return {failure.code(), file.string() + ": " + failure.what()};
}

}  // namespace

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
    create_new(found);
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
      open_existing(zero_length, found);
      found.report += leftovers;
    } catch (const sqlite::Failure& failure) {
      abandon();
      if (!sqlite::means_damage(failure.code())) {
        throw StoreError("cannot use data file " + name + ": " + failure.what() +
                         (sqlite::means_locked(failure.code())
                              ? " (another process has it: a second server with this name "
                                "and store.dir?)"
                              : ""));
      }
      std::string moved_to = "nowhere, it had gone";
      const Moves moves = move_aside(file, true);
      for (const auto& [from, to] : moves) {
        if (from == file) moved_to = to.string();
      }
      found = Contents{};
      create_new(found);
      found.report = "data file " + name + " is damaged (" + failure.what() + "); moved it to " +
                     moved_to + (moves.size() > 1 ? " with the files beside it" : "") +
                     " and started empty";
    }
  }
  logged_changes_ = found.logged_changes;
  newest_ = live_.back();
  contents = std::move(found);
}

Database::~Database() = default;

void Database::create_new(Contents& found) {
  try {
    open_anchor(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    create_anchor(found);
  } catch (const sqlite::Failure& failure) {
    abandon();
    throw StoreError("cannot create data file " + file_.string() + ": " + failure.what());
  }
}

void Database::open_anchor(int flags) {
  anchor_ = sqlite::open_wal(file_, flags, vfs_.name());
  // Every write of the anchor is synced, whatever the configured mode: a store id lost to a
  // power cut would come back as a different one, and neighbours would take this for
  // another store; a boot count lost would be repeated by a later boot, which neighbours
  // would not take for a restart; a generation named and then lost would point at files
  // already deleted.
  exec(anchor_.get(), "PRAGMA synchronous=FULL");
  // The tables of a store from before generations go with the first snapshot, dropped from
  // the anchor, which stays: the pages they free are zeroed, not left with the locations in
  // them. Debian builds SQLite so; saying it here makes every build do it.
  exec(anchor_.get(), "PRAGMA secure_delete=ON");
}

// The first generation first, then the anchor that names it: a crash between the two
// leaves a generation beside a missing or empty anchor, which the next start moves aside.
void Database::create_anchor(Contents& found) {
  sqlite3* db = anchor_.get();
  found.store_id = new_store_id();
  found.boot = 1;
  store_id_ = found.store_id;
  live_.push_back(make_generation(1));
  exec(db,
       "BEGIN IMMEDIATE;"
       "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
       "INSERT INTO meta(key, value) VALUES('format', '" +
           std::string(kFormat) + "'), ('store_id', '" + found.store_id +
           "'), ('boot', '1'), ('generation', '1');"
           "COMMIT;");
  sync_directory(file_);
}

void Database::open_existing(bool zero_length, Contents& found) {
  open_anchor(SQLITE_OPEN_READWRITE);
  sqlite3* db = anchor_.get();
  sqlite::quick_check(db);

  // A zero-length file is what SQLite itself makes of a new database before its first
  // write, so a crash just after creating one leaves it.
  if (zero_length && sqlite::single_text(db, "SELECT count(*) FROM sqlite_schema") == "0") {
    create_anchor(found);
    found.report =
        "data file " + file_.string() + " was empty (zero length); created the store in it, empty";
    return;
  }

  std::string format;
  bool has_boot = false;
  std::uint64_t boot = 0;
  std::uint64_t first = 0;  // the oldest live generation; 0: none yet (format 2)
  {
    const sqlite::Statement meta = sqlite::prepare(db, "SELECT key, value FROM meta");
    const auto number = [](const std::string& value, std::uint64_t& out) {
      const char* end = value.data() + value.size();
      const auto [stop, error] = std::from_chars(value.data(), end, out);
      return error == std::errc() && stop == end && out != 0 &&
             out != std::numeric_limits<std::uint64_t>::max();
    };
    while (step(db, meta.get())) {
      const std::string key = sqlite::text_column(db, meta.get(), 0, "a meta key");
      std::string value = sqlite::text_column(db, meta.get(), 1, "meta " + key);
      if (key == "format") {
        if (value != kFormat && value != kFormatBeforeGenerations) {
          damaged("format '" + value + "', not '" + std::string(kFormat) + "'");
        }
        format = value;
      } else if (key == "store_id") {
        if (!protocol::is_store_id(value)) damaged("malformed store id '" + value + "'");
        found.store_id = std::move(value);
      } else if (key == "boot") {
        if (!number(value, boot)) damaged("malformed boot count '" + value + "'");
        has_boot = true;
      } else if (key == "generation") {
        if (!number(value, first)) damaged("malformed generation '" + value + "'");
      }
    }
  }
  if (format.empty()) damaged("no format in meta");
  if (found.store_id.empty()) damaged("no store id in meta");
  if (!has_boot) damaged("no boot count in meta");
  if (format == kFormat && first == 0) damaged("no generation in meta");
  store_id_ = found.store_id;

  Folded folded;
  anchor_has_records_ =
      sqlite::single_text(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'log'") != "0";
  if (anchor_has_records_) Generation::read_tables(db, folded);
  const std::vector<std::uint64_t> numbers = generation_numbers(file_);
  open_generations(first, numbers, folded);

  // The boot number tells neighbours this store restarted (synced, as every write of the
  // anchor: open_anchor).
  found.boot = boot + 1;
  {
    const sqlite::Statement update = sqlite::prepare(
        db,
        "INSERT INTO meta(key, value) VALUES('boot', ?1), ('format', ?2),"
        " ('generation', ?3) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    Use(db, update.get())
        .text(std::to_string(found.boot))
        .text(std::string(kFormat))
        .text(std::to_string(live_.front()->number()))
        .run();
  }

  // Generations older than the first live one were replaced by a whole snapshot, and a
  // crash before their deletion left them.
  std::string removed;
  for (const std::uint64_t number : numbers) {
    if (number >= live_.front()->number()) break;
    if (remove_generation(generation_file(file_, number))) {
      removed += (removed.empty() ? "" : ", ") + generation_file(file_, number).string();
    }
  }
  found.records = std::move(folded.fold).records();
  for (auto& [neighbour, cursor] : folded.cursors) found.cursors.push_back(std::move(cursor));
  found.unreadable = folded.unreadable;
  found.logged_changes = folded.logged_changes;
  found.report =
      "data file " + file_.string() + ": " + std::to_string(found.records.size()) + " records" +
      (found.unreadable > 0 ? " (" + std::to_string(found.unreadable) + " unreadable lines skipped)"
                            : "") +
      " and " + std::to_string(found.cursors.size()) + " neighbour cursors, store " +
      found.store_id + ", boot " + std::to_string(found.boot) +
      (removed.empty() ? "" : " (deleted the replaced " + removed + ")");
}

// Every generation from `first` on, in order, up to the first number with no file; any
// file numbered beyond that is not one that this store made.
void Database::open_generations(std::uint64_t first, const std::vector<std::uint64_t>& numbers,
                                Folded& folded) {
  std::uint64_t number = first;
  if (first == 0) {
    // A store from before generations: its first is made now, and takes the batches.
    live_.push_back(make_generation(numbers.empty() ? 1 : numbers.back() + 1));
    return;
  }
  for (; std::binary_search(numbers.begin(), numbers.end(), number); ++number) {
    const fs::path file = generation_file(file_, number);
    try {
      live_.push_back(
          std::make_shared<Generation>(file, vfs_.name(), store_id_, number, sync_, folded));
    } catch (const sqlite::Failure& failure) {
      throw in_file(file, failure);
    }
  }
  if (live_.empty()) damaged(generation_file(file_, first).string() + " is missing");
  if (numbers.back() >= number) {
    damaged(generation_file(file_, numbers.back()).string() + " is not in sequence");
  }
}

std::shared_ptr<Generation> Database::make_generation(std::uint64_t number) const {
  const fs::path file = generation_file(file_, number);
  try {
    return std::make_shared<Generation>(Generation::Create{}, file, vfs_.name(), store_id_, number,
                                        sync_);
  } catch (const sqlite::Failure& failure) {
    throw in_file(file, failure);
  }
}

void Database::abandon() noexcept {
  // A file that is damaged, or held by another process, is left as it was found.
  for (const auto& generation : live_) generation->retire();
  live_.clear();
  sqlite::leave_as_found(anchor_.get());
  anchor_.reset();
}

void Database::write(const ChangeBatch& batch) {
  newest_->write(batch);
}

bool Database::checkpoint() {
  std::shared_ptr<Generation> newest;
  {
    const std::lock_guard lock(newest_mutex_);
    newest = newest_;
  }
  return newest->checkpoint();
}

void Database::prepare_snapshot() {
  if (next_) return;
  try {
    next_ = make_generation(live_.back()->number() + 1);
  } catch (const sqlite::Failure& failure) {
    throw StoreError(std::string("cannot create data file ") + failure.what());
  }
}

void Database::begin_snapshot() {
  // The new generation starts with the cursors as they stand, which the older ones take
  // with them when they go; batches update them there from now on.
  std::map<std::string, StoredCursor> cursors;
  if (anchor_has_records_) {
    try {
      Generation::read_cursors(anchor_.get(), cursors);
    } catch (const sqlite::Failure& failure) {
      throw StoreError("cannot read data file " + file_.string() + ": " + failure.what());
    }
  }
  for (const auto& generation : live_) {
    for (auto& [neighbour, cursor] : generation->cursors()) cursors[neighbour] = std::move(cursor);
  }
  next_->write_cursors(cursors);
  live_.push_back(std::move(next_));
  const std::lock_guard lock(newest_mutex_);
  newest_ = live_.back();
}

void Database::write_snapshot(std::span<const StoredRecord> records) {
  newest_->write_snapshot(records);
}

void Database::finish_snapshot() {
  const std::shared_ptr<Generation> newest = live_.back();
  newest->sync_to_disk();
  sqlite3* db = anchor_.get();
  try {
    sqlite::transaction(db, sqlite::TransactionStatements::prepare(db), [&] {
      exec(db, "UPDATE meta SET value = '" + std::to_string(newest->number()) +
                   "' WHERE key = 'generation'");
      if (anchor_has_records_) exec(db, "DROP TABLE log; DROP TABLE snapshot; DROP TABLE cursors");
    });
  } catch (const sqlite::Failure& failure) {
    throw StoreError("cannot write data file " + file_.string() + ": " + failure.what());
  }
  if (anchor_has_records_) {
    // The drop wrote every page of the old tables, zeroed, to the WAL, which SQLite would
    // keep at that size for reuse until the server stops. Best effort: the snapshot is
    // complete, and a WAL left large is still deleted at the stop.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }
  anchor_has_records_ = false;
  std::vector<fs::path> replaced;
  for (auto it = live_.begin(); *it != newest; it = live_.erase(it)) {
    (*it)->retire();
    replaced.push_back((*it)->file());
  }
  for (const fs::path& file : replaced) remove_generation(file);
  sync_directory(file_);
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
