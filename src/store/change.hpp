// What the journal hands to the database: one change to a server's durable state.
//
// Every change carries the store's sequence number; the database applies changes in that
// order, so a neighbour's cursor is never written ahead of the records it covers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace herd::store {

struct Change {
  enum class Kind {
    kPut,     // key: client id; value: AT line; lsn: the record's; source: its neighbour
    kErase,   // key: client id (expired)
    kCursor,  // key: neighbour; value: the neighbour's store id; lsn: the neighbour's
  };
  Kind kind = Kind::kPut;
  std::uint64_t seq = 0;
  std::string key;
  std::string value;
  std::uint64_t lsn = 0;
  std::string source;  // kPut: the neighbour the record came from, "" for a client's IAMAT

  // A record stored under sequence number `seq`, which is also its LSN.
  static Change put(std::uint64_t seq, std::string client, std::string at_line,
                    std::string source = {}) {
    return Change{Kind::kPut, seq, std::move(client), std::move(at_line), seq, std::move(source)};
  }
  static Change erase(std::uint64_t seq, std::string client) {
    return Change{Kind::kErase, seq, std::move(client), {}, 0, {}};
  }
  // A neighbour's position in its store `store_id`.
  static Change cursor(std::uint64_t seq, std::string neighbour, std::string store_id,
                       std::uint64_t lsn) {
    return Change{Kind::kCursor, seq, std::move(neighbour), std::move(store_id), lsn, {}};
  }
};

}  // namespace herd::store
