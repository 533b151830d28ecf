// What the journal hands to the database: one change to a server's durable state.
//
// Every change carries the store's sequence number; the database applies changes in that
// order, so a neighbour's cursor is never written ahead of the records it covers.
#pragma once

#include <cstdint>
#include <string>

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
};

}  // namespace herd::store
