// What a commit of the data file waits for (store.durability): with kWritten, until SQLite
// has written the transaction to the operating system, so that it survives the process
// being killed; with kSynced, until it is on disk (fsync), so that it survives power loss.
#pragma once

namespace herd::store {

enum class Sync { kWritten, kSynced };

}  // namespace herd::store
