// What the store's files share in talking to SQLite: a connection and its statements as
// owned handles, a statement run once with its parameters, a transaction, readers for
// columns of a file that may not be ours, and a failure that says whether a file is
// damaged.
//
// A Failure carries SQLite's result code. Whether it means damage (move the file aside) or
// a file that is sound but cannot be used now (locked, read-only, disk full) is
// means_damage()'s to say, in one place for every file of a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace herd::store::sqlite {

// What SQLite, or a check of ours, refused; `code` is SQLite's result code, SQLITE_CORRUPT
// for a failed check of ours.
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

[[noreturn]] void fail(sqlite3* db, int code);  // with SQLite's message for `db`
[[noreturn]] void damaged(const std::string& what);
void check(sqlite3* db, int code);  // fails unless SQLITE_OK

// Whether a failure says the file is damaged. The others leave a file that may be sound
// but cannot be used now (another process holds it, the disk is full, no permission):
// moving it aside would throw its records away for nothing.
bool means_damage(int code);
bool means_locked(int code);  // by another process

struct Closer {
  void operator()(sqlite3* db) const noexcept;
  void operator()(sqlite3_stmt* statement) const noexcept;
};
using Connection = std::unique_ptr<sqlite3, Closer>;
using Statement = std::unique_ptr<sqlite3_stmt, Closer>;

// Opens `file` through the VFS named `vfs`; fails with what SQLite refused.
Connection open(const std::filesystem::path& file, int flags, const char* vfs);
// open(), then checks that the file can be written and puts it in WAL mode.
Connection open_wal(const std::filesystem::path& file, int flags, const char* vfs);
// Fails, as damage, unless SQLite's quick_check finds the file sound.
void quick_check(sqlite3* db);
// Before closing a connection to a file that is to be left as found: closing the last
// connection would otherwise checkpoint the WAL into the file and delete it.
void leave_as_found(sqlite3* db) noexcept;

Statement prepare(sqlite3* db, std::string_view sql, unsigned flags = 0);
bool step(sqlite3* db, sqlite3_stmt* statement);  // true for a row, false once done
void exec(sqlite3* db, const std::string& sql);
// The first column of the first row, "" if there is none.
std::string single_text(sqlite3* db, std::string_view sql);

// Column readers for rows of a file that may not be ours: a value of the wrong type is
// damage, not something to convert.
std::string text_column(sqlite3* db, sqlite3_stmt* row, int column, std::string_view what);
// LSNs are kept as the bit pattern of a uint64, so those above INT64_MAX read back negative.
std::uint64_t lsn_column(sqlite3_stmt* row, int column, std::string_view what);
std::string_view blob_column(sqlite3_stmt* row, int column, std::string_view what);

// One use of a kept statement: bound, stepped once, then reset and unbound whatever
// happens, so that it never holds on to the caller's strings (bound SQLITE_STATIC).
class Use {
 public:
  Use(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  ~Use();
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(const std::string& value);
  Use& blob(const std::string& value);
  Use& integer(std::uint64_t value);
  void run();

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  int index_ = 0;
};

// The statements that begin, commit and roll back a transaction on one connection,
// prepared once and kept: a busy server commits every turn.
struct TransactionStatements {
  static TransactionStatements prepare(sqlite3* db);
  Statement begin;  // BEGIN IMMEDIATE
  Statement commit;
  Statement rollback;
};

// Rolls back the transaction open on `db`, if SQLite has not already: it has after some
// errors (disk full, I/O), and a ROLLBACK then would only fail.
void roll_back(sqlite3* db, const TransactionStatements& statements) noexcept;

// Runs `body()` in one transaction. Whatever `body` or the commit throws, the transaction
// is rolled back before the exception goes on.
template <typename Body>
void transaction(sqlite3* db, const TransactionStatements& statements, Body&& body) {
  try {
    Use(db, statements.begin.get()).run();
    body();
    Use(db, statements.commit.get()).run();
  } catch (...) {
    roll_back(db, statements);
    throw;
  }
}

}  // namespace herd::store::sqlite
