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
#include <deque>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "store/change.hpp"

namespace herd::store {

// The changes of one transaction: the record changes (puts and erases) encoded as the
// lines of one row, as they are added, and the neighbours' cursors, which have a table
// of their own.
class ChangeBatch {
 public:
  ChangeBatch() = default;
  ChangeBatch(std::initializer_list<Change> changes);

  // Adds a change with a seq greater than any added before.
  void add(const Change& change);
  // Adds every change of `later`, whose seqs are all greater than any added before.
  void append(const ChangeBatch& later);
  void clear();  // keeps the memory, for the next batch

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }  // changes of every kind
  std::uint64_t last_seq() const { return last_seq_; }
  // One line a record change, in order:
  //     P <lsn> <client> @<source> <AT line>
  //     E <seq> <client>
  const std::string& record_lines() const { return record_lines_; }
  const std::vector<StoredCursor>& cursors() const { return cursors_; }  // in order

 private:
  std::string record_lines_;
  std::vector<StoredCursor> cursors_;
  std::size_t size_ = 0;
  std::uint64_t last_seq_ = 0;
};

// Appends `records` as put lines.
void encode_records(std::span<const StoredRecord> records, std::string& out);

// The newest state of each client, whatever order the rows are read in: of two changes to
// one client, the one with the greater sequence number wins (a put's is its LSN).
//
// A server reads a million records this way at start-up, so the fold keeps each row whole
// and its table views the lines in it, rather than giving every client, AT line and source
// a string of its own and every client a node (docs/durability.md, "Starting up").
class ChangeFold {
 public:
  // Folds in one row, a copy of which is kept until records(); returns the number of lines
  // that could not be read.
  std::size_t add(std::string_view row);
  // The clients whose newest change is a put, oldest first (by LSN), the order in which
  // the store indexes them at no cost (record_store.hpp).
  std::vector<StoredRecord> records() &&;

 private:
  struct Latest {
    std::uint64_t seq = 0;  // a put's is its LSN
    bool erased = false;
    // Views into rows_, as the table's keys are.
    std::string_view source;
    std::string_view at_line;
  };
  using Table = boost::unordered_flat_map<std::string_view, Latest, std::hash<std::string_view>>;
  bool add_line(std::string_view line);
  std::deque<std::string> rows_;  // a deque, so that a row never moves once viewed
  Table latest_;
};

}  // namespace herd::store
