// How records are laid out in the data file: each transaction appends one row holding all
// of its record changes, encoded as lines; reading the file back folds every row into the
// newest state of each client.
//
// One row a batch, rather than one row a record, is what keeps durability cheap: SQLite's
// cost is mostly per row and per transaction, and a batch of a thousand records costs
// about as much as a few single rows (docs/durability.md has the figures). Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/change.hpp"

namespace herd::store {

struct StoredRecord;

// Appends the record changes (puts and erases) of `changes` to `out`, one line each:
//     P <lsn> <client> @<source> <AT line>
//     E <seq> <client>
// Cursor changes are not record changes and are skipped.
void encode_changes(std::span<const Change> changes, std::string& out);
// Appends `records` as put lines.
void encode_records(std::span<const StoredRecord> records, std::string& out);

// The newest state of each client, whatever order the rows are read in: of two changes to
// one client, the one with the greater sequence number wins (a put's is its LSN).
class ChangeFold {
 public:
  // Folds in one row; returns the number of lines that could not be read.
  std::size_t add(std::string_view row);
  // The clients whose newest change is a put.
  std::vector<StoredRecord> records() &&;

 private:
  struct Latest {
    std::uint64_t seq = 0;
    bool erased = false;
    std::uint64_t lsn = 0;
    std::string source;
    std::string at_line;
  };
  bool add_line(std::string_view line);
  std::unordered_map<std::string, Latest> latest_;
};

}  // namespace herd::store
