#include "store/wal_coalescing_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <new>
#include <string>

namespace herd::store {
namespace {

namespace fs = std::filesystem;

// What reached the file system under the layer: a layer of the test's over SQLite's own,
// which counts the writes to WAL files and can fail them.
struct WalWrites {
  int calls = 0;
  int in_place = 0;  // writes that did not extend the file
  sqlite3_int64 end = 0;
  bool fail = false;
};

struct CountedFile {
  sqlite3_file base;
  sqlite3_file* under;
  WalWrites* writes;
};

sqlite3_file* under(sqlite3_file* file) {
  return reinterpret_cast<CountedFile*>(file)->under;
}

constexpr sqlite3_io_methods kCountedMethods = [] {
  sqlite3_io_methods methods{};  // the methods of later versions stay null
  methods.iVersion = 1;
  methods.xClose = [](sqlite3_file* file) {
    sqlite3_file* inner = under(file);
    const int code = inner->pMethods->xClose(inner);
    delete[] reinterpret_cast<char*>(inner);
    return code;
  };
  methods.xRead = [](sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
    return under(file)->pMethods->xRead(under(file), data, amount, offset);
  };
  methods.xWrite = [](sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    WalWrites& writes = *reinterpret_cast<CountedFile*>(file)->writes;
    if (writes.fail) return SQLITE_IOERR_WRITE;
    ++writes.calls;
    if (offset + amount <= writes.end) ++writes.in_place;
    writes.end = std::max(writes.end, offset + amount);
    return under(file)->pMethods->xWrite(under(file), data, amount, offset);
  };
  methods.xTruncate = [](sqlite3_file* file, sqlite3_int64 size) {
    return under(file)->pMethods->xTruncate(under(file), size);
  };
  methods.xSync = [](sqlite3_file* file, int flags) {
    return under(file)->pMethods->xSync(under(file), flags);
  };
  methods.xFileSize = [](sqlite3_file* file, sqlite3_int64* size) {
    return under(file)->pMethods->xFileSize(under(file), size);
  };
  methods.xLock = [](sqlite3_file* file, int lock) {
    return under(file)->pMethods->xLock(under(file), lock);
  };
  methods.xUnlock = [](sqlite3_file* file, int lock) {
    return under(file)->pMethods->xUnlock(under(file), lock);
  };
  methods.xCheckReservedLock = [](sqlite3_file* file, int* out) {
    return under(file)->pMethods->xCheckReservedLock(under(file), out);
  };
  methods.xFileControl = [](sqlite3_file* file, int op, void* argument) {
    return under(file)->pMethods->xFileControl(under(file), op, argument);
  };
  methods.xSectorSize = [](sqlite3_file* file) {
    return under(file)->pMethods->xSectorSize(under(file));
  };
  methods.xDeviceCharacteristics = [](sqlite3_file* file) {
    return under(file)->pMethods->xDeviceCharacteristics(under(file));
  };
  return methods;
}();

// SQLite's "unix" layer, with the writes to its WAL files counted into `writes`.
class CountingVfs {
 public:
  explicit CountingVfs(WalWrites& writes) {
    unix_ = sqlite3_vfs_find("unix");
    vfs_ = *unix_;
    vfs_.pNext = nullptr;
    vfs_.zName = name_.c_str();
    vfs_.szOsFile = std::max(static_cast<int>(sizeof(CountedFile)), unix_->szOsFile);
    vfs_.pAppData = this;
    writes_ = &writes;
    vfs_.xOpen = [](sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                    int* out_flags) {
      auto* self = static_cast<CountingVfs*>(vfs->pAppData);
      if ((flags & SQLITE_OPEN_WAL) == 0) {
        return self->unix_->xOpen(self->unix_, name, file, flags, out_flags);
      }
      auto* counted = reinterpret_cast<CountedFile*>(file);
      counted->base.pMethods = nullptr;
      auto* inner = reinterpret_cast<sqlite3_file*>(new char[self->unix_->szOsFile]());
      const int code = self->unix_->xOpen(self->unix_, name, inner, flags, out_flags);
      if (code != SQLITE_OK) {
        if (inner->pMethods != nullptr) inner->pMethods->xClose(inner);
        delete[] reinterpret_cast<char*>(inner);
        return code;
      }
      counted->under = inner;
      counted->writes = self->writes_;
      counted->base.pMethods = &kCountedMethods;
      return SQLITE_OK;
    };
    sqlite3_vfs_register(&vfs_, 0);
  }
  ~CountingVfs() { sqlite3_vfs_unregister(&vfs_); }
  CountingVfs(const CountingVfs&) = delete;
  CountingVfs& operator=(const CountingVfs&) = delete;

  const char* name() const { return name_.c_str(); }

 private:
  std::string name_ = "test-counting";
  sqlite3_vfs* unix_ = nullptr;
  sqlite3_vfs vfs_{};
  WalWrites* writes_ = nullptr;
};

class WalCoalescingVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("herd-wal-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  using Connection = std::unique_ptr<sqlite3, Closer>;

  static Connection open(const fs::path& file, const char* vfs) {
    sqlite3* raw = nullptr;
    const int code =
        sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
    Connection db(raw);
    EXPECT_EQ(code, SQLITE_OK) << sqlite3_errmsg(raw);
    return db;
  }
  static int exec(sqlite3* db, const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  static std::string text(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string out;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(statement, 0);
      if (value != nullptr) out = reinterpret_cast<const char*>(value);
    }
    sqlite3_finalize(statement);
    return out;
  }

  // A database in WAL mode with a table of blobs, written through `vfs`, with SQLite
  // copying the WAL into the file only when asked. Its commits are not synced, as in
  // durability "written": a sync would write what is gathered anyway. Close it before
  // `vfs` goes.
  Connection create(const char* vfs) {
    Connection db = open(dir_ / "test.db", vfs);
    EXPECT_EQ(text(db.get(), "PRAGMA journal_mode=WAL"), "wal");
    EXPECT_EQ(exec(db.get(), "PRAGMA synchronous=NORMAL"), SQLITE_OK);
    EXPECT_EQ(exec(db.get(), "PRAGMA wal_autocheckpoint=0"), SQLITE_OK);
    EXPECT_EQ(exec(db.get(), "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)"), SQLITE_OK);
    return db;
  }

  // The rows of the file as a process killed now would leave it: the database and its WAL
  // as the operating system holds them, copied and opened elsewhere.
  std::string rows_after_a_kill() {
    const fs::path copy = dir_ / "copy";
    fs::create_directories(copy);
    fs::copy_file(dir_ / "test.db", copy / "test.db", fs::copy_options::overwrite_existing);
    fs::copy_file(dir_ / "test.db-wal", copy / "test.db-wal", fs::copy_options::overwrite_existing);
    fs::remove(copy / "test.db-shm");
    Connection db = open(copy / "test.db", nullptr);
    return text(db.get(),
                "SELECT count(*) || ' ' || coalesce(sum(length(v)), 0) || ' ' || "
                "coalesce(sum(unicode(substr(v, 1 + k % 100, 1))), 0) FROM t");
  }

  fs::path dir_;
  // What the writes to the WAL of a file opened through either layer reach.
  WalWrites writes_;
  CountingVfs counting_{writes_};
  WalCoalescingVfs coalescing_{counting_.name()};
};

TEST_F(WalCoalescingVfsTest, ATransactionsFramesReachTheFileInOneWrite) {
  const Connection db = create(coalescing_.name());
  const int before = writes_.calls;
  // About ten pages: a blob of 40,000 bytes overflows its row's page.
  ASSERT_EQ(exec(db.get(), "INSERT INTO t VALUES (1, randomblob(40000))"), SQLITE_OK);
  EXPECT_EQ(writes_.calls - before, 1);
  EXPECT_EQ(rows_after_a_kill().substr(0, 8), "1 40000 ");
}

TEST_F(WalCoalescingVfsTest, WithoutTheLayerEachFrameTakesTwoWrites) {
  const Connection db = create(counting_.name());
  const int before = writes_.calls;
  ASSERT_EQ(exec(db.get(), "INSERT INTO t VALUES (1, randomblob(40000))"), SQLITE_OK);
  EXPECT_GE(writes_.calls - before, 20);
}

TEST_F(WalCoalescingVfsTest, ALargeTransactionIsWrittenInPiecesOfAtMostTheLimit) {
  const Connection db = create(coalescing_.name());
  const int before = writes_.calls;
  // Past SQLite's unix layer's own limit of 128 KiB a write, too.
  ASSERT_EQ(exec(db.get(), "INSERT INTO t VALUES (1, randomblob(300000))"), SQLITE_OK);
  const auto pieces = 300000 / WalCoalescingVfs::kMaxGathered + 2;
  EXPECT_GT(writes_.calls - before, 1);
  EXPECT_LE(static_cast<std::size_t>(writes_.calls - before), pieces);
  EXPECT_EQ(rows_after_a_kill().substr(0, 9), "1 300000 ");
}

// A transaction larger than SQLite's page cache writes pages to the WAL before its commit,
// rewrites those it changes again in place, and then rewrites their checksums: a reader,
// or a restart after a kill, must find all of it in the file once the commit returns.
TEST_F(WalCoalescingVfsTest, EveryCommitIsInTheFileWhenItReturnsPagesRewrittenInPlaceToo) {
  const Connection db = create(coalescing_.name());
  ASSERT_EQ(exec(db.get(), "PRAGMA cache_size=-16"), SQLITE_OK);
  const Connection reader = open(dir_ / "test.db", coalescing_.name());
  for (int round = 1; round <= 3; ++round) {
    ASSERT_EQ(exec(db.get(), "BEGIN"), SQLITE_OK);
    for (int pass = 0; pass < 4; ++pass) {
      for (int k = 0; k < 200; ++k) {
        const std::string value = "'" + std::string(300 + pass, static_cast<char>('a' + pass)) +
                                  std::to_string(round) + "'";
        ASSERT_EQ(exec(db.get(), "INSERT OR REPLACE INTO t VALUES (" + std::to_string(k) + ", " +
                                     value + ")"),
                  SQLITE_OK);
      }
    }
    ASSERT_EQ(exec(db.get(), "COMMIT"), SQLITE_OK) << sqlite3_errmsg(db.get());
    // Each row: 303 letters 'd' and the round's digit.
    const std::string expected =
        "200 " + std::to_string(200 * 304) + " " + std::to_string(200 * 'd');
    EXPECT_EQ(rows_after_a_kill(), expected) << "round " << round;
    EXPECT_EQ(text(reader.get(), "SELECT count(*) || ' ' || sum(length(v)) FROM t"),
              "200 " + std::to_string(200 * 304));
  }
  EXPECT_GT(writes_.in_place, 0);  // the case this test is about did happen
}

TEST_F(WalCoalescingVfsTest, AFailedWriteFailsTheCommitAndTheNextCommitWritesIt) {
  const Connection db = create(coalescing_.name());
  ASSERT_EQ(exec(db.get(), "INSERT INTO t VALUES (1, zeroblob(5000))"), SQLITE_OK);
  writes_.fail = true;
  EXPECT_NE(exec(db.get(), "INSERT INTO t VALUES (2, zeroblob(6000))"), SQLITE_OK);
  writes_.fail = false;
  EXPECT_EQ(rows_after_a_kill().substr(0, 7), "1 5000 ");
  ASSERT_EQ(exec(db.get(), "INSERT INTO t VALUES (2, zeroblob(6000))"), SQLITE_OK)
      << sqlite3_errmsg(db.get());
  EXPECT_EQ(rows_after_a_kill().substr(0, 8), "2 11000 ");
}

}  // namespace
}  // namespace herd::store
