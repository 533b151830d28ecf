// The records a server holds: for every client, the newest AT line it has seen, numbered
// for catch-up and journaled for durability.
//
// offer() applies the newer-record rule atomically, so concurrent IAMATs and floods for
// the same client, from any thread, settle on the record every other server settles on
// too. Every change gets the next sequence number of this store: a stored record's is its
// LSN, by which neighbours ask for what they missed (docs/catch-up.md). Sequence numbers
// of one boot start above every number of the boots before, so none is ever reused, even
// by a server that lost the end of its file. Changes go to the journal in sequence order,
// under the same lock.
//
// A server may hold millions of clients, so a client costs little besides its text: one
// allocation for its entry and one for its fields (packed_record.hpp), a slot in a flat
// table, and a slot in the LSN index (lsn_index.hpp). bench/catch_up prints what a
// million of them take. Nor does the store hold its lock long as it grows or as records
// are replaced: the table grows a piece at a time (incremental_set.hpp), and the LSN index
// squeezes one chunk at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/catch_up.hpp"
#include "protocol/record.hpp"
#include "store/database.hpp"
#include "store/incremental_set.hpp"
#include "store/journal.hpp"
#include "store/lsn_index.hpp"
#include "store/packed_record.hpp"

namespace herd::store {

class RecordStore {
 public:
  enum class Outcome {
    kStored,    // new or newer: flooded on
    kNotNewer,  // changed nothing
    kFull,      // a new client, but the store already holds `capacity` clients
    kAgedOut,   // older than the time-to-live: refused
  };

  struct Options {
    std::size_t capacity = SIZE_MAX;
    std::chrono::seconds ttl{0};  // 0: records never age out
  };

  // `store_id` and `boot` come from the data file (or are made up, without one).
  RecordStore(Options options, Journal& journal, std::string store_id, std::uint64_t boot);

  // Takes back what the data file held; before any offer. Rows whose AT line does not
  // parse, or whose record has aged out meanwhile, are dropped (and erased from the file);
  // of rows for one client, the first is kept and the others dropped, but not erased.
  // Any order is right; oldest first (by LSN, as ChangeFold gives them) is cheapest, as
  // the LSN index then needs no sorting.
  struct Restored {
    std::size_t records = 0;
    std::size_t unreadable = 0;
    std::size_t aged_out = 0;
  };
  Restored restore(const std::vector<StoredRecord>& records,
                   const std::vector<StoredCursor>& cursors, protocol::Timestamp now);

  // Stores `record` if it is newer than the one held for its client (or there is none and
  // there is room). `source` is the neighbour it came from, empty for a client's IAMAT.
  // With `holding`, sets it, for kStored and kNotNewer, to the LSN of the record the client
  // has now: the change whose commit makes the outcome durable.
  Outcome offer(const protocol::Record& record, std::string_view source, protocol::Timestamp now,
                std::uint64_t* holding = nullptr);

  // A copy, so that the caller may use it after other threads have replaced it; nullopt
  // for an unknown client and for one whose record has aged out.
  std::optional<protocol::Record> find(std::string_view client_id, protocol::Timestamp now) const;

  // Read without the store's lock, so that the thread that commits may ask at every batch.
  std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  const std::string& store_id() const { return store_id_; }
  // The sequence number of the last change made.
  std::uint64_t last_seq() const;

  // The records to send a neighbour: those with an LSN in (after, up_to], oldest first,
  // at most `limit` of them; records that came from `neighbour` itself are left out when
  // their LSN is above `echo_from` (see docs/catch-up.md for why not below it).
  struct Batch {
    std::vector<std::string> at_lines;
    std::uint64_t through = 0;  // every LSN up to this one was considered
    // What the MARK may claim: `through`, or less while a committed record considered is
    // replaced by a version not committed yet. Claiming its LSN then would lose it to a
    // crash: the neighbour would hold its position past a record it never got, and the
    // restarted server would have only that record, not the newer one.
    std::uint64_t mark = 0;
  };
  Batch read_since(std::uint64_t after, std::uint64_t up_to, std::string_view neighbour,
                   std::uint64_t echo_from, std::size_t limit) const;

  // The records with an LSN in (after, up_to], oldest first, at most `limit`: a piece of a
  // snapshot for the data file (journal.hpp).
  std::vector<StoredRecord> snapshot(std::uint64_t after, std::uint64_t up_to,
                                     std::size_t limit) const;

  // How far `neighbour` has sent us its store; empty when we hold nothing of it.
  protocol::StorePosition position_of(std::string_view neighbour) const;
  // Records a neighbour's MARK. A position is never moved back within one store.
  void advance(std::string_view neighbour, const protocol::StorePosition& position);

  // Forgets at most `limit` records that have aged out; returns how many it forgot.
  std::size_t forget_aged_out(protocol::Timestamp now, std::size_t limit);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    explicit Entry(const protocol::Record& first) : record(first) {}
    PackedRecord record;
    std::uint64_t lsn = 0;
    std::uint32_t source = 0;                                           // an index into sources_
    std::multimap<protocol::Timestamp, const Entry*>::iterator by_age;  // with a ttl only
  };
  // Entries are found by client id, and each lives in an allocation of its own, so that
  // the indexes may point at it while the table moves its slots. A slot keeps its client's
  // hash beside the entry, so that moving a slot to a larger table reads no entry: read
  // from every entry, the hashes held the store's lock for 150 ms as a table of 860,000
  // clients grew (measured while designing).
  struct Slot {
    std::size_t hash;
    std::unique_ptr<Entry> entry;
  };
  // A client id and its hash, so that a lookup and the insert after it hash the id once.
  struct Key {
    std::string_view client;
    std::size_t hash;
  };
  static Key key_of(std::string_view client) {
    return Key{client, std::hash<std::string_view>{}(client)};
  }
  struct ByClient {
    using is_transparent = void;
    static std::string_view client_of(const Key& key) { return key.client; }
    static std::string_view client_of(const Slot& slot) { return slot.entry->record.client_id(); }
    std::size_t operator()(const auto& key) const { return key.hash; }
    bool operator()(const auto& a, const auto& b) const {
      return a.hash == b.hash && client_of(a) == client_of(b);
    }
  };
  using Records = IncrementalSet<Slot, ByClient, ByClient>;

  void index(Entry& entry);
  void unindex(const Entry& entry);
  // The neighbours that records came from are few, so each entry names its source by an
  // index into sources_ rather than holding a copy of the name. 0 is a client's IAMAT.
  std::uint32_t source_index(std::string_view source);

  const Options options_;
  Journal& journal_;
  const std::string store_id_;

  mutable std::mutex mutex_;
  std::uint64_t seq_;
  Records records_;
  LsnIndex<Entry> by_lsn_;
  std::multimap<protocol::Timestamp, const Entry*> by_age_;
  std::atomic<std::size_t> size_{0};  // records_.size(), written under mutex_
  std::vector<std::string> sources_{""};
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> source_indexes_;
  std::unordered_map<std::string, protocol::StorePosition, Hash, std::equal_to<>> positions_;
  // A record replaced by a version not yet committed (Batch::mark), until it is. Made in
  // LSN order and settled oldest first, so a deque: in the steady state every IAMAT makes
  // one, and as a tree's node each cost the loop an allocation and its cache misses.
  struct Displacement {
    std::uint64_t lsn;        // the new version's
    std::uint64_t displaced;  // the LSN of the one it replaced
  };
  std::deque<Displacement> displaced_;
};

// Sequence numbers of boot `boot` start at boot << kBootShift: 2^40 changes a boot.
inline constexpr int kBootShift = 40;

}  // namespace herd::store
