#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <vector>

namespace herd::store::sqlite {
namespace {

// How long a statement waits for a lock held by the other connection of this process
// (the checkpointer's) before it fails.
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

void fail(sqlite3* db, int code) {
  throw Failure(code, sqlite3_errmsg(db));
}

void damaged(const std::string& what) {
  throw Failure(SQLITE_CORRUPT, what);
}

void check(sqlite3* db, int code) {
  if (code != SQLITE_OK) fail(db, code);
}

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

bool means_locked(int code) {
  return (code & 0xff) == SQLITE_BUSY;
}

void Closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

void Closer::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

Connection open(const std::filesystem::path& file, int flags, const char* vfs) {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(file.c_str(), &raw, flags, vfs);
  Connection connection(raw);
  check(raw, code);
  return connection;
}

Connection open_wal(const std::filesystem::path& file, int flags, const char* vfs) {
  Connection connection = open(file, flags, vfs);
  sqlite3* raw = connection.get();
  // A file refused here may be damaged, or another process's: closing must not touch its WAL.
  leave_as_found(raw);
  if (sqlite3_db_readonly(raw, "main") == 1) throw Failure(SQLITE_READONLY, "it is read-only");
  // The first read takes the file's lock. Only another process can hold it, until that
  // process exits, so waiting would not help: a second server is refused at once.
  check(raw, sqlite3_busy_timeout(raw, 0));
  const std::string mode = single_text(raw, "PRAGMA journal_mode=WAL");
  if (mode != "wal") {
    throw Failure(SQLITE_CANTOPEN, "cannot switch it to WAL mode (it stays in " + mode + ")");
  }
  check(raw, sqlite3_busy_timeout(raw, kBusyTimeoutMs));
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
  return connection;
}

void quick_check(sqlite3* db) {
  const Statement query = prepare(db, "PRAGMA quick_check");
  std::vector<std::string> answers;
  while (step(db, query.get())) {
    const auto* text = sqlite3_column_text(query.get(), 0);
    answers.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
  }
  if (answers.size() != 1 || answers.front() != "ok") {
    std::string what = "quick_check: " + (answers.empty() ? "no answer" : answers.front());
    if (answers.size() > 1) what += " and " + std::to_string(answers.size() - 1) + " more";
    damaged(what);
  }
}

void leave_as_found(sqlite3* db) noexcept {
  if (db != nullptr) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
}

Statement prepare(sqlite3* db, std::string_view sql, unsigned flags) {
  sqlite3_stmt* raw = nullptr;
  const int code =
      sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
  Statement statement(raw);
  check(db, code);
  return statement;
}

TransactionStatements TransactionStatements::prepare(sqlite3* db) {
  return TransactionStatements{sqlite::prepare(db, "BEGIN IMMEDIATE", SQLITE_PREPARE_PERSISTENT),
                               sqlite::prepare(db, "COMMIT", SQLITE_PREPARE_PERSISTENT),
                               sqlite::prepare(db, "ROLLBACK", SQLITE_PREPARE_PERSISTENT)};
}

void roll_back(sqlite3* db, const TransactionStatements& statements) noexcept {
  if (sqlite3_get_autocommit(db) != 0) return;
  sqlite3_step(statements.rollback.get());
  sqlite3_reset(statements.rollback.get());
}

bool step(sqlite3* db, sqlite3_stmt* statement) {
  const int code = sqlite3_step(statement);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  fail(db, code);
}

void exec(sqlite3* db, const std::string& sql) {
  check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr));
}

std::string single_text(sqlite3* db, std::string_view sql) {
  const Statement query = prepare(db, sql);
  if (!step(db, query.get())) return "";
  const auto* text = sqlite3_column_text(query.get(), 0);
  if (text == nullptr) return "";
  return reinterpret_cast<const char*>(text);
}

std::string text_column(sqlite3* db, sqlite3_stmt* row, int column, std::string_view what) {
  if (sqlite3_column_type(row, column) != SQLITE_TEXT) {
    damaged(std::string(what) + " is not text");
  }
  const auto* text = sqlite3_column_text(row, column);
  if (text == nullptr) fail(db, SQLITE_NOMEM);
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(row, column))};
}

std::uint64_t lsn_column(sqlite3_stmt* row, int column, std::string_view what) {
  if (sqlite3_column_type(row, column) != SQLITE_INTEGER) {
    damaged(std::string(what) + " is not an integer");
  }
  return static_cast<std::uint64_t>(sqlite3_column_int64(row, column));
}

std::string_view blob_column(sqlite3_stmt* row, int column, std::string_view what) {
  if (sqlite3_column_type(row, column) != SQLITE_BLOB) {
    damaged(std::string(what) + " is not a blob");
  }
  const auto* data = static_cast<const char*>(sqlite3_column_blob(row, column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(row, column));
  return {data == nullptr ? "" : data, size};
}

Use::~Use() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

Use& Use::text(const std::string& value) {
  check(db_, sqlite3_bind_text64(statement_, ++index_, value.data(), value.size(), SQLITE_STATIC,
                                 SQLITE_UTF8));
  return *this;
}

Use& Use::blob(const std::string& value) {
  check(db_, sqlite3_bind_blob64(statement_, ++index_, value.data(), value.size(), SQLITE_STATIC));
  return *this;
}

Use& Use::integer(std::uint64_t value) {
  check(db_, sqlite3_bind_int64(statement_, ++index_, static_cast<sqlite3_int64>(value)));
  return *this;
}

void Use::run() {
  const int code = sqlite3_step(statement_);
  if (code != SQLITE_DONE) fail(db_, code);
}

}  // namespace herd::store::sqlite
