// A file system layer for SQLite that writes the frames of each transaction to the WAL in
// one call.
//
// SQLite writes a frame of its write-ahead log with two calls, its 24-byte header and then
// its page, so a batch of 14 pages took 28 `pwrite` calls, each with the kernel's fixed
// cost, on the event loop's thread (docs/durability.md). This layer hands every file but
// the WAL to the layer under it untouched. It gathers the frames appended to the WAL in a
// buffer and writes them in one call once the frame that commits their transaction is
// complete, or earlier: before the WAL is read, synced, sized, truncated or closed, before
// a write anywhere but at its end, and when the buffer is full.
//
// What it promises: a commit returns only once its frames are written to the operating
// system, as without it, so a process killed after an AT reply loses nothing; no frame
// that a reader could be shown is ever left in the buffer, since readers see a
// transaction only after its commit frame; and a failed write fails the call that made
// it, which SQLite reports as it would its own.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

struct sqlite3_vfs;

namespace herd::store {

class WalCoalescingVfs {
 public:
  // The most bytes of frames gathered before they are written: a batch under load is
  // about 60 KB. SQLite's unix layer writes at most 128 KiB - 1 in one call (it masks the
  // count), so a larger write fails as if the disk were full.
  static constexpr std::size_t kMaxGathered = std::size_t{64} * 1024;

  // Registers a layer over the registered VFS named `under`, under a name of its own;
  // throws std::runtime_error if there is no such VFS. Destroy it only after every
  // connection opened through it is closed.
  explicit WalCoalescingVfs(const char* under);
  ~WalCoalescingVfs();
  WalCoalescingVfs(const WalCoalescingVfs&) = delete;
  WalCoalescingVfs& operator=(const WalCoalescingVfs&) = delete;

  // What to pass to sqlite3_open_v2 as its VFS.
  const char* name() const { return name_.c_str(); }

 private:
  std::string name_;
  std::unique_ptr<sqlite3_vfs> vfs_;
};

}  // namespace herd::store
