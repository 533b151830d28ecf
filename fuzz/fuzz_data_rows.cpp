// Fuzz target: the rows of a data file, read back at start-up. SQLite checks its pages, not
// what a row holds, so a damaged file can hand the fold any bytes. The input is cut into
// rows at random places, and each row is folded in (change_log.hpp), then the records are
// handed to a record store as a server's start-up hands them (record_store.hpp). The fold
// must give each client once, oldest first, and read back exactly what it writes for those
// records; the store must take each record or count it dropped, and never hold one that
// is not the fold's.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/timestamp.hpp"
#include "store/change_log.hpp"
#include "store/journal.hpp"
#include "store/record_store.hpp"

namespace {

using herd::fuzz::require;
using herd::store::ChangeFold;
using herd::store::StoredRecord;

// The input as rows: cut at random places, so that a line may run from one row into the next
// (a batch's row always ends with a whole line, but a damaged one need not).
std::vector<std::string_view> cut_into_rows(std::string_view input, herd::fuzz::Random& random) {
  std::vector<std::string_view> rows;
  while (!input.empty()) {
    std::size_t size = static_cast<std::size_t>(1 + random.below(random.below(2) ? 64 : 4096));
    if (size > input.size()) size = input.size();
    rows.push_back(input.substr(0, size));
    input.remove_prefix(size);
  }
  return rows;
}

void check_records(const std::vector<StoredRecord>& records) {
  std::set<std::string_view> clients;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const StoredRecord& record = records[i];
    require(clients.insert(record.client).second, "each client once");
    require(i == 0 || records[i - 1].lsn <= record.lsn, "oldest first");
    require(!record.client.empty() && !record.at_line.empty(), "a put has a client and a line");
  }
}

// Records as a set: two folds may order records of equal LSN either way.
using RecordSet =
    std::set<std::tuple<std::string_view, std::string_view, std::uint64_t, std::string_view>>;
RecordSet as_set(const std::vector<StoredRecord>& records) {
  RecordSet set;
  for (const auto& r : records) set.emplace(r.client, r.at_line, r.lsn, r.source);
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  herd::fuzz::Random random(herd::fuzz::hash_bytes(input));

  ChangeFold fold;
  for (std::string_view row : cut_into_rows(input, random)) fold.add(row);
  const std::vector<StoredRecord> records = std::move(fold).records();
  check_records(records);

  // What the fold gives, written as a snapshot writes it, is read back unchanged.
  std::string encoded;
  herd::store::encode_records(records, encoded);
  ChangeFold again;
  require(again.add(encoded) == 0, "every line written is readable");
  const std::vector<StoredRecord> read_back = std::move(again).records();
  require(read_back.size() == records.size() && as_set(read_back) == as_set(records),
          "records read back as written");

  // Start-up: the store takes what parses as an AT line for its client and has not aged out.
  const std::uint64_t boot = 1 + random.below(4);
  herd::store::Journal journal(
      nullptr, 0, [](std::uint64_t) {}, [](const std::string&) {});
  const std::chrono::seconds ttl(random.below(2) ? 0 : 1 + random.below(1'000'000'000));
  herd::store::RecordStore store({.ttl = ttl}, journal, "0123456789abcdef", boot);
  const herd::protocol::Timestamp now = herd::fuzz::random_clock(random);
  const auto restored = store.restore(records, {}, now);
  require(restored.records + restored.unreadable + restored.aged_out == records.size(),
          "every record is taken or counted dropped");
  require(store.size() == restored.records, "the store holds what it took");
  std::size_t found = 0;
  for (const StoredRecord& record : records) {
    const auto held = store.find(record.client, now);
    if (!held) continue;
    ++found;
    require(held->at_line == record.at_line && held->client_id == record.client,
            "a record held is the fold's for its client");
  }
  require(found == restored.records, "every record taken can be found");
  return 0;
}
