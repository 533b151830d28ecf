// What the journal hands to the database: one change to a server's durable state, and the
// stored forms that the changes build up.
//
// Every change carries the store's sequence number; the database applies changes in that
// order, so a neighbour's cursor is never written ahead of the records it covers. A Change
// only views the strings it names: it lives for the call it is passed to, which copies
// what it keeps (ChangeBatch::add), so that storing a record costs no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herd::store {

struct Change {
  enum class Kind {
    kPut,     // key: client id; value: AT line; lsn: the record's; source: its neighbour
    kErase,   // key: client id (expired)
    kCursor,  // key: neighbour; value: the neighbour's store id; lsn: the neighbour's
  };
  Kind kind = Kind::kPut;
  std::uint64_t seq = 0;
  std::string_view key;
  std::string_view value;
  std::uint64_t lsn = 0;
  std::string_view source;  // kPut: the neighbour the record came from, "" for an IAMAT

  // A record stored under sequence number `seq`, which is also its LSN.
  static Change put(std::uint64_t seq, std::string_view client, std::string_view at_line,
                    std::string_view source = {}) {
    return Change{Kind::kPut, seq, client, at_line, seq, source};
  }
  static Change erase(std::uint64_t seq, std::string_view client) {
    return Change{Kind::kErase, seq, client, {}, 0, {}};
  }
  // A neighbour's position in its store `store_id`.
  static Change cursor(std::uint64_t seq, std::string_view neighbour, std::string_view store_id,
                       std::uint64_t lsn) {
    return Change{Kind::kCursor, seq, neighbour, store_id, lsn, {}};
  }
};

// A record as the data file holds it.
struct StoredRecord {
  std::string client;
  std::string at_line;
  std::uint64_t lsn = 0;
  std::string source;
};

// A neighbour's cursor as the data file holds it.
struct StoredCursor {
  std::string neighbour;
  std::string store_id;
  std::uint64_t lsn = 0;
};

}  // namespace herd::store
