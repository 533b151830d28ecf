#include "store/wal_coalescing_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace herd::store {
namespace {

constexpr int kFrameHeaderSize = 24;  // SQLite's WAL format

// The frames appended to one WAL file and not yet written.
class Gathered {
 public:
  explicit Gathered(sqlite3_file* file) : file_(file) {}

  sqlite3_file* file() const { return file_; }

  int write(const void* data, int amount, sqlite3_int64 offset) {
    if (offset == 0) end_of_log_ = 0;  // the log starts again, with its header
    const auto size = static_cast<std::size_t>(amount);
    const bool appends = bytes_.empty() ? offset >= end_of_log_
                                        : offset == at_ + static_cast<sqlite3_int64>(bytes_.size());
    // Written at once: what could never be gathered, and what is not appended. SQLite
    // rewrites a frame in place when a transaction changes a page again, and then the
    // frames' checksums, which readers must see with the commit.
    const bool gather = appends && size <= WalCoalescingVfs::kMaxGathered;
    if (!gather || bytes_.size() + size > WalCoalescingVfs::kMaxGathered) {
      if (const int code = flush(); code != SQLITE_OK) return code;
    }
    end_of_log_ = std::max(end_of_log_, offset + amount);
    if (!gather) return file_->pMethods->xWrite(file_, data, amount, offset);

    if (bytes_.empty()) at_ = offset;
    bytes_.append(static_cast<const char*>(data), size);
    // SQLite writes a frame's header on its own and nothing else of that size to the WAL
    // (its own header is 32 bytes, a page at least 512).
    if (amount == kFrameHeaderSize) {
      const auto* bytes = static_cast<const unsigned char*>(data);
      // Bytes 4-7 of a frame's header: the file's size in pages after a commit, 0 in the
      // frames before it.
      commit_next_ = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
      return SQLITE_OK;
    }
    return commit_next_ ? flush() : SQLITE_OK;
  }

  // Writes what is gathered, in one call. What failed is dropped: SQLite rolls its
  // transaction back and writes those frames again if it tries again.
  int flush() {
    commit_next_ = false;
    if (bytes_.empty()) return SQLITE_OK;
    const int code =
        file_->pMethods->xWrite(file_, bytes_.data(), static_cast<int>(bytes_.size()), at_);
    bytes_.clear();
    return code;
  }

 private:
  sqlite3_file* file_;  // the layer under's
  std::string bytes_;
  sqlite3_int64 at_ = 0;          // where bytes_ go in the file
  sqlite3_int64 end_of_log_ = 0;  // past the last byte written or gathered
  bool commit_next_ = false;      // the last header gathered is a commit frame's
};

// A WAL file as SQLite holds it; the layer under's file follows in the same allocation.
struct WalFile {
  sqlite3_file base;
  Gathered* gathered;
};
constexpr int kWalFileSize =
    static_cast<int>((sizeof(WalFile) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
                     alignof(std::max_align_t));

Gathered& gathered(sqlite3_file* file) {
  return *reinterpret_cast<WalFile*>(file)->gathered;
}

// How our file reaches a method of the layer under's: `kMethod` is a member of
// sqlite3_io_methods, and its signature picks the specialization below.
template <auto kMethod, typename Signature = std::remove_pointer_t<std::remove_reference_t<
                            decltype(std::declval<sqlite3_io_methods>().*kMethod)>>>
struct Calls;
template <auto kMethod, typename Result, typename... Args>
struct Calls<kMethod, Result(sqlite3_file*, Args...)> {
  // Called once what is gathered is written.
  static Result flushed_then(sqlite3_file* file, Args... args) {
    Gathered& frames = gathered(file);
    if (const int code = frames.flush(); code != SQLITE_OK) return code;
    return (frames.file()->pMethods->*kMethod)(frames.file(), args...);
  }
  // For a method that leaves the file's bytes alone: passed on as it is.
  static Result passed_on(sqlite3_file* file, Args... args) {
    sqlite3_file* under = gathered(file).file();
    return (under->pMethods->*kMethod)(under, args...);
  }
};

int close_wal(sqlite3_file* file) {
  auto* wal = reinterpret_cast<WalFile*>(file);
  const int flushed = wal->gathered->flush();
  sqlite3_file* under = wal->gathered->file();
  delete wal->gathered;
  wal->gathered = nullptr;
  const int closed = under->pMethods->xClose(under);
  return flushed != SQLITE_OK ? flushed : closed;
}

// Version 1: SQLite maps memory and shares an index only through the database's file.
constexpr sqlite3_io_methods kWalMethods = [] {
  sqlite3_io_methods methods{};  // the methods of later versions stay null
  methods.iVersion = 1;
  methods.xClose = close_wal;
  methods.xRead = Calls<&sqlite3_io_methods::xRead>::flushed_then;
  methods.xWrite = [](sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    return gathered(file).write(data, amount, offset);
  };
  methods.xTruncate = Calls<&sqlite3_io_methods::xTruncate>::flushed_then;
  methods.xSync = Calls<&sqlite3_io_methods::xSync>::flushed_then;
  methods.xFileSize = Calls<&sqlite3_io_methods::xFileSize>::flushed_then;
  methods.xLock = Calls<&sqlite3_io_methods::xLock>::passed_on;
  methods.xUnlock = Calls<&sqlite3_io_methods::xUnlock>::passed_on;
  methods.xCheckReservedLock = Calls<&sqlite3_io_methods::xCheckReservedLock>::passed_on;
  methods.xFileControl = Calls<&sqlite3_io_methods::xFileControl>::flushed_then;
  methods.xSectorSize = Calls<&sqlite3_io_methods::xSectorSize>::passed_on;
  methods.xDeviceCharacteristics = Calls<&sqlite3_io_methods::xDeviceCharacteristics>::passed_on;
  return methods;
}();

sqlite3_vfs* under(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int open_file(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* below = under(vfs);
  if ((flags & SQLITE_OPEN_WAL) == 0) return below->xOpen(below, name, file, flags, out_flags);

  auto* wal = reinterpret_cast<WalFile*>(file);
  wal->base.pMethods = nullptr;
  auto* inner = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kWalFileSize);
  inner->pMethods = nullptr;
  const int code = below->xOpen(below, name, inner, flags, out_flags);
  if (code == SQLITE_OK) wal->gathered = new (std::nothrow) Gathered(inner);
  if (code != SQLITE_OK || wal->gathered == nullptr) {
    if (inner->pMethods != nullptr) inner->pMethods->xClose(inner);
    return code != SQLITE_OK ? code : SQLITE_NOMEM;
  }
  wal->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the layer under's: `kMethod` is a member of sqlite3_vfs.
template <auto kMethod, typename Signature = std::remove_pointer_t<std::remove_reference_t<
                            decltype(std::declval<sqlite3_vfs>().*kMethod)>>>
struct Below;
template <auto kMethod, typename Result, typename... Args>
struct Below<kMethod, Result(sqlite3_vfs*, Args...)> {
  static Result call(sqlite3_vfs* vfs, Args... args) {
    sqlite3_vfs* layer = under(vfs);
    return (layer->*kMethod)(layer, args...);
  }
};

}  // namespace

WalCoalescingVfs::WalCoalescingVfs(const char* under_name) : vfs_(std::make_unique<sqlite3_vfs>()) {
  sqlite3_vfs* layer = sqlite3_vfs_find(under_name);
  if (layer == nullptr) {
    throw std::runtime_error(std::string("SQLite has no file system layer named ") + under_name);
  }
  name_ = "herd-wal-coalescing-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  // Version 2 adds only xCurrentTimeInt64, passed on where the layer under has it.
  vfs_->iVersion = layer->iVersion >= 2 && layer->xCurrentTimeInt64 != nullptr ? 2 : 1;
  vfs_->szOsFile = kWalFileSize + layer->szOsFile;
  vfs_->mxPathname = layer->mxPathname;
  vfs_->zName = name_.c_str();
  vfs_->pAppData = layer;
  vfs_->xOpen = open_file;
  vfs_->xDelete = Below<&sqlite3_vfs::xDelete>::call;
  vfs_->xAccess = Below<&sqlite3_vfs::xAccess>::call;
  vfs_->xFullPathname = Below<&sqlite3_vfs::xFullPathname>::call;
  vfs_->xDlOpen = Below<&sqlite3_vfs::xDlOpen>::call;
  vfs_->xDlError = Below<&sqlite3_vfs::xDlError>::call;
  vfs_->xDlSym = Below<&sqlite3_vfs::xDlSym>::call;
  vfs_->xDlClose = Below<&sqlite3_vfs::xDlClose>::call;
  vfs_->xRandomness = Below<&sqlite3_vfs::xRandomness>::call;
  vfs_->xSleep = Below<&sqlite3_vfs::xSleep>::call;
  vfs_->xCurrentTime = Below<&sqlite3_vfs::xCurrentTime>::call;
  vfs_->xGetLastError = Below<&sqlite3_vfs::xGetLastError>::call;
  vfs_->xCurrentTimeInt64 = Below<&sqlite3_vfs::xCurrentTimeInt64>::call;
  if (const int code = sqlite3_vfs_register(vfs_.get(), 0); code != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot register a file system layer over ") + under_name +
                             ": " + sqlite3_errstr(code));
  }
}

WalCoalescingVfs::~WalCoalescingVfs() {
  sqlite3_vfs_unregister(vfs_.get());
}

}  // namespace herd::store
