#include "store/record_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocol/request.hpp"
#include "store/database.hpp"
#include "store/journal.hpp"
#include "store_test_support.hpp"

namespace herd::store {
namespace {

using protocol::Record;
using protocol::StorePosition;
using protocol::Timestamp;
using std::chrono::seconds;
using testing::CommitReports;
using testing::expect_record;
using testing::ReleaseAtEnd;
using testing::sorted;

constexpr std::uint64_t kAll = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
constexpr std::uint64_t kBoot1 = std::uint64_t{1} << kBootShift;
constexpr std::uint64_t kBoot2 = std::uint64_t{2} << kBootShift;
constexpr Timestamp kNow{1'700'000'000, 0};
constexpr const char* kStoreId = "0123456789abcdef";
constexpr const char* kOtherId = "fedcba9876543210";

Timestamp at(std::int64_t whole, std::int32_t nanoseconds = 0) {
  return Timestamp{whole, nanoseconds};
}

// An AT line as `server` would make it for `client` at client time `time`.
std::string at_line(std::string_view server, std::string_view client, Timestamp time) {
  std::string nanos = std::to_string(time.nanoseconds);
  nanos.insert(0, 9 - nanos.size(), '0');
  return "AT " + std::string(server) + " +0.000000000 " + std::string(client) + " +34.06-118.44 " +
         std::to_string(time.seconds) + "." + nanos;
}

// The record a neighbour's AT line carries, parsed as the server parses it.
Record record(std::string_view client, Timestamp time, std::string_view server = "Clark") {
  auto request = protocol::parse_request(at_line(server, client, time));
  return std::get<protocol::At>(request).record;
}

// Every AT line the store would send `neighbour` (no echo exception) after `after`.
std::vector<std::string> lines_since(const RecordStore& store, std::uint64_t after,
                                     std::string_view neighbour = "Bernard") {
  return store.read_since(after, kAll, neighbour, kAll, kNoLimit).at_lines;
}

std::vector<std::string> lines_of(std::initializer_list<Record> records) {
  std::vector<std::string> lines;
  for (const auto& r : records) lines.push_back(r.at_line);
  return lines;
}

// A store whose journal has no database: every change commits as it is made.
class MemoryStoreTest : public ::testing::Test {
 protected:
  CommitReports commits_;
  Journal journal_{nullptr, 0, commits_.on_commit(), commits_.on_failure()};
};

TEST_F(MemoryStoreTest, UnknownClientIsNotFound) {
  const RecordStore store({}, journal_, kStoreId, 1);
  EXPECT_FALSE(store.find("kiwi.cs.ucla.edu", kNow).has_value());
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.store_id(), kStoreId);
  EXPECT_EQ(store.last_seq(), kBoot1);
  EXPECT_TRUE(lines_since(store, 0).empty());
}

TEST_F(MemoryStoreTest, StoresAFirstRecordAndFindsACopy) {
  RecordStore store({}, journal_, kStoreId, 1);
  const Record kiwi = record("kiwi", at(100));
  EXPECT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kStored);
  auto found = store.find("kiwi", kNow);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->at_line, kiwi.at_line);
  EXPECT_EQ(found->client_id, "kiwi");
  EXPECT_EQ(found->client_time, at(100));
  EXPECT_EQ(found->location.latitude, "+34.06");
  EXPECT_EQ(found->location.longitude, "-118.44");
  EXPECT_FALSE(store.find("kiw", kNow).has_value());
  EXPECT_EQ(store.size(), 1u);

  // The copy outlives a replacement.
  EXPECT_EQ(store.offer(record("kiwi", at(200)), "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(found->at_line, kiwi.at_line);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, record("kiwi", at(200)).at_line);
}

TEST_F(MemoryStoreTest, NewerReplacesOlderChangesNothing) {
  RecordStore store({}, journal_, kStoreId, 1);
  const Record first = record("kiwi", at(100, 5));
  const Record newer = record("kiwi", at(100, 6), "Bernard");
  const Record older = record("kiwi", at(100, 4), "Juzang");
  EXPECT_EQ(store.offer(first, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.offer(newer, "Bernard", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, newer.at_line);
  const std::uint64_t seq = store.last_seq();
  EXPECT_EQ(store.offer(older, "Juzang", kNow), RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.offer(first, "", kNow), RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, newer.at_line);
  EXPECT_EQ(store.size(), 1u);
  // What changed nothing takes no sequence number and reaches no journal.
  EXPECT_EQ(store.last_seq(), seq);
  EXPECT_EQ(commits_.commits().size(), 2u);
}

// What an IAMAT's reply waits for: the LSN of the record its client has once it is offered,
// its own when stored, the newer one's it lost to otherwise, however many changes came since.
TEST_F(MemoryStoreTest, OfferSaysWhichRecordTheClientHolds) {
  RecordStore store({}, journal_, kStoreId, 1);
  std::uint64_t holding = 0;
  EXPECT_EQ(store.offer(record("kiwi", at(100, 6)), "", kNow, &holding),
            RecordStore::Outcome::kStored);
  EXPECT_EQ(holding, kBoot1 + 1);
  EXPECT_EQ(store.offer(record("pear", at(100)), "", kNow), RecordStore::Outcome::kStored);
  holding = 0;
  EXPECT_EQ(store.offer(record("kiwi", at(100, 5)), "Juzang", kNow, &holding),
            RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(holding, kBoot1 + 1);
  EXPECT_EQ(store.offer(record("kiwi", at(100, 7)), "", kNow, &holding),
            RecordStore::Outcome::kStored);
  EXPECT_EQ(holding, kBoot1 + 3);
}

TEST_F(MemoryStoreTest, EqualTimesGoToTheLineThatSortsGreater) {
  const Record bernard = record("kiwi", at(100), "Bernard");
  const Record clark = record("kiwi", at(100), "Clark");
  ASSERT_LT(bernard.at_line, clark.at_line);
  {
    RecordStore store({}, journal_, kStoreId, 1);
    EXPECT_EQ(store.offer(bernard, "", kNow), RecordStore::Outcome::kStored);
    EXPECT_EQ(store.offer(clark, "Clark", kNow), RecordStore::Outcome::kStored);
    EXPECT_EQ(store.find("kiwi", kNow)->at_line, clark.at_line);
  }
  {
    RecordStore store({}, journal_, kStoreId, 1);
    EXPECT_EQ(store.offer(clark, "Clark", kNow), RecordStore::Outcome::kStored);
    EXPECT_EQ(store.offer(bernard, "", kNow), RecordStore::Outcome::kNotNewer);
    EXPECT_EQ(store.offer(clark, "Jaquez", kNow), RecordStore::Outcome::kNotNewer);
    EXPECT_EQ(store.find("kiwi", kNow)->at_line, clark.at_line);
  }
}

TEST_F(MemoryStoreTest, FullStoreRefusesNewClientsButTakesUpdates) {
  RecordStore store({.capacity = 2}, journal_, kStoreId, 1);
  EXPECT_EQ(store.offer(record("a", at(1)), "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.offer(record("b", at(1)), "", kNow), RecordStore::Outcome::kStored);
  const std::uint64_t seq = store.last_seq();
  EXPECT_EQ(store.offer(record("c", at(1)), "", kNow), RecordStore::Outcome::kFull);
  EXPECT_FALSE(store.find("c", kNow).has_value());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.last_seq(), seq);
  EXPECT_EQ(store.offer(record("a", at(2)), "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.find("a", kNow)->client_time, at(2));
  EXPECT_EQ(store.offer(record("b", at(0)), "", kNow), RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.offer(record("c", at(5)), "", kNow), RecordStore::Outcome::kFull);
  EXPECT_EQ(store.size(), 2u);
}

TEST_F(MemoryStoreTest, ConcurrentOffersSettleOnTheNewest) {
  RecordStore store({}, journal_, kStoreId, 1);
  constexpr int kTimes = 200;
  constexpr int kClients = 8;
  const std::vector<std::string> servers = {"Bernard", "Clark", "Jaquez", "Juzang"};
  std::atomic<std::uint64_t> stored{0};
  std::vector<std::thread> threads;
  threads.reserve(servers.size());
  for (std::size_t t = 0; t < servers.size(); ++t) {
    threads.emplace_back([&, t] {
      // Every thread offers every time for every client, in an order of its own.
      std::vector<std::pair<int, int>> offers;
      for (int c = 0; c < kClients; ++c) {
        for (int i = 1; i <= kTimes; ++i) offers.emplace_back(c, i);
      }
      std::mt19937 random(static_cast<std::mt19937::result_type>(t + 1));
      std::shuffle(offers.begin(), offers.end(), random);
      for (const auto& [c, i] : offers) {
        const auto outcome =
            store.offer(record("client" + std::to_string(c), at(i), servers[t]), servers[t], kNow);
        if (outcome == RecordStore::Outcome::kStored) ++stored;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(store.size(), static_cast<std::size_t>(kClients));
  std::vector<std::string> newest;
  for (int c = 0; c < kClients; ++c) {
    const std::string client = "client" + std::to_string(c);
    const Record expected = record(client, at(kTimes), "Juzang");
    auto found = store.find(client, kNow);
    ASSERT_TRUE(found.has_value()) << client;
    EXPECT_EQ(found->at_line, expected.at_line);
    newest.push_back(expected.at_line);
  }
  // Every change took one sequence number, and the journal committed each of them in order.
  EXPECT_EQ(store.last_seq(), kBoot1 + stored.load());
  const auto seqs = commits_.commits();
  ASSERT_EQ(seqs.size(), stored.load());
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end());
  EXPECT_EQ(journal_.committed(), store.last_seq());
  // Catch-up finds each client once, at its newest.
  auto lines = lines_since(store, 0);
  std::sort(lines.begin(), lines.end());
  std::sort(newest.begin(), newest.end());
  EXPECT_EQ(lines, newest);
}

TEST_F(MemoryStoreTest, SequenceNumbersStartAboveTheBoot) {
  RecordStore store({}, journal_, kStoreId, 3);
  const std::uint64_t base = std::uint64_t{3} << 40;
  EXPECT_EQ(store.last_seq(), base);
  const Record kiwi = record("kiwi", at(1));
  ASSERT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.last_seq(), base + 1);
  EXPECT_EQ(journal_.committed(), base + 1);
  EXPECT_EQ(commits_.commits(), std::vector<std::uint64_t>{base + 1});
  // The record's LSN is base + 1: in (base, base + 1], not in (base + 1, ...].
  EXPECT_EQ(store.read_since(base, base + 1, "Bernard", 0, 10).at_lines,
            std::vector<std::string>{kiwi.at_line});
  EXPECT_TRUE(store.read_since(0, base, "Bernard", 0, 10).at_lines.empty());
  EXPECT_TRUE(lines_since(store, base + 1).empty());

  ASSERT_EQ(store.offer(record("apple", at(1)), "", kNow), RecordStore::Outcome::kStored);
  ASSERT_EQ(store.offer(record("kiwi", at(2)), "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.last_seq(), base + 3);
  EXPECT_EQ(commits_.commits(), (std::vector<std::uint64_t>{base + 1, base + 2, base + 3}));
}

TEST_F(MemoryStoreTest, ReadSinceGivesRecordsInLsnOrder) {
  RecordStore store({}, journal_, kStoreId, 1);
  const Record a = record("a", at(10));
  const Record b = record("b", at(5));
  const Record c = record("c", at(7));
  const Record a2 = record("a", at(11));
  for (const auto& r : {a, b, c, a2})
    ASSERT_EQ(store.offer(r, "", kNow), RecordStore::Outcome::kStored);
  // LSNs: a kBoot1+1 (replaced), b +2, c +3, a2 +4. A replaced client appears once, at its
  // new LSN.
  EXPECT_EQ(lines_since(store, 0), lines_of({b, c, a2}));
  EXPECT_EQ(lines_since(store, kBoot1), lines_of({b, c, a2}));
  EXPECT_EQ(lines_since(store, kBoot1 + 2), lines_of({c, a2}));
  EXPECT_TRUE(lines_since(store, kBoot1 + 4).empty());

  // Up to +3, a2 counts as not committed: the mark may not claim a's old LSN, lest a crash
  // bring a back at +1 to a neighbour whose position is past it.
  auto batch = store.read_since(kBoot1, kBoot1 + 3, "Bernard", 0, 10);
  EXPECT_EQ(batch.at_lines, lines_of({b, c}));
  EXPECT_EQ(batch.through, kBoot1 + 3);
  EXPECT_EQ(batch.mark, kBoot1);  // just short of a's old LSN
  batch = store.read_since(kBoot1 + 1, kBoot1 + 2, "Bernard", 0, 10);
  EXPECT_EQ(batch.at_lines, lines_of({b}));
  EXPECT_EQ(batch.through, kBoot1 + 2);
  EXPECT_EQ(batch.mark, kBoot1);  // a's old LSN is still displaced, even after `after`
  // Only the old LSN of a in range: nothing, but all of it considered.
  batch = store.read_since(kBoot1, kBoot1 + 1, "Bernard", 0, 10);
  EXPECT_TRUE(batch.at_lines.empty());
  EXPECT_EQ(batch.through, kBoot1 + 1);
  EXPECT_EQ(batch.mark, kBoot1);
  // up_to beyond everything: through is up_to, and a2 is in.
  batch = store.read_since(kBoot1 + 2, kBoot1 + 100, "Bernard", 0, 10);
  EXPECT_EQ(batch.at_lines, lines_of({c, a2}));
  EXPECT_EQ(batch.through, kBoot1 + 100);
  EXPECT_EQ(batch.mark, batch.through);
}

TEST_F(MemoryStoreTest, ClientsUpdatedOverAndOverStayInLsnOrder) {
  // Every update empties a slot of the LSN index; enough of them make it squeeze the empty
  // slots out, several times over, and the order must survive each squeeze.
  RecordStore store({}, journal_, kStoreId, 1);
  constexpr int kClients = 100;
  std::vector<std::string> latest(kClients);  // client i's AT line
  std::vector<int> order;                     // clients, oldest update first
  std::mt19937 random(7);
  for (int update = 0; update < 20 * kClients; ++update) {
    const int i = static_cast<int>(random() % kClients);
    const Record r = record("client" + std::to_string(i), at(update + 1));
    ASSERT_EQ(store.offer(r, "", kNow), RecordStore::Outcome::kStored);
    latest[i] = r.at_line;
    std::erase(order, i);
    order.push_back(i);
  }
  std::vector<std::string> expected;
  expected.reserve(order.size());
  for (const int i : order) expected.push_back(latest[i]);
  EXPECT_EQ(lines_since(store, 0), expected);

  // From the middle: the newest half, by LSN.
  const std::size_t half = order.size() / 2;
  const auto middle = store.read_since(0, kAll, "Bernard", kAll, half);
  ASSERT_EQ(middle.at_lines.size(), half);
  EXPECT_EQ(lines_since(store, middle.through),
            std::vector<std::string>(expected.begin() + static_cast<std::ptrdiff_t>(half),
                                     expected.end()));

  std::vector<std::string> snapshot_lines;
  snapshot_lines.reserve(expected.size());
  for (const auto& row : store.snapshot(0, kAll, kNoLimit)) snapshot_lines.push_back(row.at_line);
  EXPECT_EQ(snapshot_lines, expected);
}

TEST_F(MemoryStoreTest, EveryClientIsFoundAsTheTableGrows) {
  // The table moves its slots to a larger array many times on the way, by the hashes they
  // keep; a lookup hashes the id it is given.
  RecordStore store({}, journal_, kStoreId, 1);
  constexpr int kClients = 20'000;
  const auto client = [](int i) { return "client-" + std::to_string(i) + ".cs.ucla.edu"; };
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(store.offer(record(client(i), at(100)), "", kNow), RecordStore::Outcome::kStored);
  }
  EXPECT_EQ(store.size(), static_cast<std::size_t>(kClients));
  for (int i = kClients - 1; i >= 0; --i) {
    const Record newer = record(client(i), at(200 + i));
    ASSERT_EQ(store.offer(newer, "", kNow), RecordStore::Outcome::kStored) << client(i);
  }
  for (int i = 0; i < kClients; ++i) {
    const auto found = store.find(client(i), kNow);
    ASSERT_TRUE(found.has_value()) << client(i);
    EXPECT_EQ(found->at_line, record(client(i), at(200 + i)).at_line);
  }
  EXPECT_EQ(store.size(), static_cast<std::size_t>(kClients));
  EXPECT_FALSE(store.find(client(kClients), kNow).has_value());
}

TEST_F(MemoryStoreTest, ReadSinceLimitCutsTheBatch) {
  RecordStore store({}, journal_, kStoreId, 1);
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back(record("client" + std::to_string(i), at(i)));
    ASSERT_EQ(store.offer(records.back(), "", kNow), RecordStore::Outcome::kStored);
  }
  // A neighbour's MARK takes a sequence number too: LSNs need not be consecutive.
  store.advance("Juzang", {kOtherId, 9});
  records.push_back(record("client5", at(5)));
  ASSERT_EQ(store.offer(records.back(), "", kNow), RecordStore::Outcome::kStored);
  const std::uint64_t last = store.last_seq();
  ASSERT_EQ(last, kBoot1 + 7);

  auto batch = store.read_since(0, last, "Bernard", 0, 2);
  EXPECT_EQ(batch.at_lines, lines_of({records[0], records[1]}));
  EXPECT_EQ(batch.through, kBoot1 + 2);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
  batch = store.read_since(batch.through, last, "Bernard", 0, 2);
  EXPECT_EQ(batch.at_lines, lines_of({records[2], records[3]}));
  EXPECT_EQ(batch.through, kBoot1 + 4);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
  batch = store.read_since(batch.through, last, "Bernard", 0, 2);
  EXPECT_EQ(batch.at_lines, lines_of({records[4], records[5]}));
  EXPECT_EQ(batch.through, last);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
  batch = store.read_since(batch.through, last, "Bernard", 0, 2);
  EXPECT_TRUE(batch.at_lines.empty());
  EXPECT_EQ(batch.through, last);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed

  // Exactly `limit` records left: nothing is cut, all of it considered.
  batch = store.read_since(kBoot1 + 3, last, "Bernard", 0, 3);
  EXPECT_EQ(batch.at_lines, lines_of({records[3], records[4], records[5]}));
  EXPECT_EQ(batch.through, last);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
  batch = store.read_since(kBoot1 + 4, last, "Bernard", 0, 1);
  EXPECT_EQ(batch.at_lines, lines_of({records[4]}));
  EXPECT_EQ(batch.through, kBoot1 + 5);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
}

TEST_F(MemoryStoreTest, ReadSinceLeavesOutEchoesAboveEchoFrom) {
  RecordStore store({}, journal_, kStoreId, 1);
  const Record a = record("a", at(1), "Juzang");
  const Record b = record("b", at(1));
  const Record c = record("c", at(1), "Juzang");
  const Record d = record("d", at(1), "Jaquez");
  ASSERT_EQ(store.offer(a, "Juzang", kNow), RecordStore::Outcome::kStored);  // kBoot1 + 1
  ASSERT_EQ(store.offer(b, "", kNow), RecordStore::Outcome::kStored);        // + 2
  ASSERT_EQ(store.offer(c, "Juzang", kNow), RecordStore::Outcome::kStored);  // + 3
  ASSERT_EQ(store.offer(d, "Jaquez", kNow), RecordStore::Outcome::kStored);  // + 4

  EXPECT_EQ(store.read_since(0, kAll, "Juzang", 0, 10).at_lines, lines_of({b, d}));
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", kBoot1 + 1, 10).at_lines, lines_of({a, b, d}));
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", kBoot1 + 2, 10).at_lines, lines_of({a, b, d}));
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", kBoot1 + 3, 10).at_lines, lines_of({a, b, c, d}));
  EXPECT_EQ(store.read_since(0, kAll, "Jaquez", 0, 10).at_lines, lines_of({a, b, c}));
  EXPECT_EQ(store.read_since(0, kAll, "Bernard", 0, 10).at_lines, lines_of({a, b, c, d}));

  // Echoes left out do not count against the limit, but are considered.
  auto batch = store.read_since(0, kAll, "Juzang", 0, 1);
  EXPECT_EQ(batch.at_lines, lines_of({b}));
  EXPECT_EQ(batch.through, kBoot1 + 2);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed
  batch = store.read_since(batch.through, kAll, "Juzang", 0, 1);
  EXPECT_EQ(batch.at_lines, lines_of({d}));
  EXPECT_EQ(batch.through, kAll);
  EXPECT_EQ(batch.mark, batch.through);  // nothing replaced: all of it may be claimed

  // A replaced record carries its new source.
  const Record a2 = record("a", at(2));
  ASSERT_EQ(store.offer(a2, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", 0, 10).at_lines, lines_of({b, d, a2}));
}

TEST_F(MemoryStoreTest, PositionsOfNeighbours) {
  RecordStore store({}, journal_, kStoreId, 1);
  EXPECT_EQ(store.position_of("Juzang"), StorePosition{});
  EXPECT_TRUE(store.position_of("Juzang").store_id.empty());

  store.advance("Juzang", {kOtherId, 10});
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kOtherId, 10}));
  EXPECT_EQ(store.position_of("Jaquez"), StorePosition{});
  const std::uint64_t seq = store.last_seq();
  EXPECT_EQ(seq, kBoot1 + 1);  // a MARK is a change: journaled, numbered

  // Never back, nor to the same place, within one store: nothing journaled.
  store.advance("Juzang", {kOtherId, 5});
  store.advance("Juzang", {kOtherId, 10});
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kOtherId, 10}));
  EXPECT_EQ(store.last_seq(), seq);
  EXPECT_EQ(commits_.commits().size(), 1u);

  store.advance("Juzang", {kOtherId, 11});
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kOtherId, 11}));
  // Another store (the neighbour lost its file) replaces the position, even lower.
  store.advance("Juzang", {kStoreId, 3});
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kStoreId, 3}));
  store.advance("Juzang", {kStoreId, 2});
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kStoreId, 3}));
  EXPECT_EQ(store.last_seq(), seq + 2);
  EXPECT_EQ(commits_.commits().size(), 3u);

  store.advance("Jaquez", {kOtherId, 1});
  EXPECT_EQ(store.position_of("Jaquez"), (StorePosition{kOtherId, 1}));
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kStoreId, 3}));
  // Positions are not records.
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(lines_since(store, 0).empty());
}

TEST_F(MemoryStoreTest, RecordsOlderThanTheTtlAreRefused) {
  RecordStore store({.ttl = seconds(60)}, journal_, kStoreId, 1);
  const Record past_ttl = record("old", at(kNow.seconds - 60, 0));
  const Record one_ns_past = record("older", at(kNow.seconds - 61, 999'999'999));
  EXPECT_EQ(store.offer(past_ttl, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.offer(one_ns_past, "", kNow), RecordStore::Outcome::kAgedOut);
  EXPECT_FALSE(store.find("older", kNow).has_value());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.last_seq(), kBoot1 + 1);
  // An update that has aged out is refused too, and changes nothing.
  EXPECT_EQ(store.offer(record("old", at(kNow.seconds - 61)), "", kNow),
            RecordStore::Outcome::kAgedOut);
  EXPECT_EQ(store.find("old", kNow)->at_line, past_ttl.at_line);

  // find() hides a record as soon as it has aged out, before it is forgotten.
  EXPECT_TRUE(store.find("old", at(kNow.seconds, 0)).has_value());
  EXPECT_FALSE(store.find("old", at(kNow.seconds, 1)).has_value());
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(MemoryStoreTest, WithoutTtlNothingAgesOut) {
  RecordStore store({}, journal_, kStoreId, 1);
  const Record ancient = record("kiwi", at(0));
  EXPECT_EQ(store.offer(ancient, "", at(9'999'999'999)), RecordStore::Outcome::kStored);
  EXPECT_TRUE(store.find("kiwi", at(9'999'999'999, 999'999'999)).has_value());
  EXPECT_EQ(store.forget_aged_out(at(9'999'999'999, 999'999'999), 100), 0u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.last_seq(), kBoot1 + 1);
}

TEST_F(MemoryStoreTest, ForgetAgedOutForgetsTheOldestFirstUpToTheLimit) {
  RecordStore store({.ttl = seconds(60)}, journal_, kStoreId, 1);
  // Offered out of age order, each when it was fresh.
  const Record c = record("c", at(1120));
  const Record a = record("a", at(1100));
  const Record d = record("d", at(1200));
  const Record b = record("b", at(1110));
  for (const auto& r : {c, a, d, b}) {
    ASSERT_EQ(store.offer(r, "", r.client_time), RecordStore::Outcome::kStored);
  }
  const std::uint64_t seq = store.last_seq();
  EXPECT_EQ(store.forget_aged_out(at(1150), 10), 0u);  // none past 60 s yet
  EXPECT_EQ(store.last_seq(), seq);

  // At 1185 a, b and c have aged out; d has not.
  EXPECT_EQ(store.forget_aged_out(at(1185), 2), 2u);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.find("a", at(1100)).has_value());
  EXPECT_FALSE(store.find("b", at(1110)).has_value());
  EXPECT_TRUE(store.find("c", at(1120)).has_value());
  EXPECT_EQ(store.last_seq(), seq + 2);  // an erase each, journaled
  EXPECT_EQ(commits_.commits().size(), 6u);
  EXPECT_EQ(lines_since(store, 0), lines_of({c, d}));

  EXPECT_EQ(store.forget_aged_out(at(1185), 10), 1u);
  EXPECT_EQ(store.forget_aged_out(at(1185), 10), 0u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.find("d", at(1185)).has_value());
  EXPECT_EQ(lines_since(store, 0), lines_of({d}));

  // A forgotten client may come back, and is a new client then.
  const Record c2 = record("c", at(1190));
  EXPECT_EQ(store.offer(c2, "", at(1190)), RecordStore::Outcome::kStored);
  EXPECT_EQ(lines_since(store, 0), lines_of({d, c2}));

  // A record that was replaced ages out by its new time only.
  const Record d2 = record("d", at(1300));
  ASSERT_EQ(store.offer(d2, "", at(1300)), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.forget_aged_out(at(1300), 10), 1u);  // c2 (1190) only
  EXPECT_EQ(store.forget_aged_out(at(1360), 10), 0u);
  EXPECT_EQ(store.forget_aged_out(at(1360, 1), 10), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(MemoryStoreTest, RestoreTakesBackRecordsAndCursors) {
  RecordStore store({.ttl = seconds(60)}, journal_, kStoreId, 2);
  const Record kiwi = record("kiwi", at(kNow.seconds - 10), "Juzang");
  const Record apple = record("apple", at(kNow.seconds - 20));
  const Record other = record("other", at(kNow.seconds - 20));
  const Record old = record("old", at(kNow.seconds - 61));
  const std::vector<StoredRecord> rows = {
      {"kiwi", kiwi.at_line, kBoot1 + 5, "Juzang"}, {"apple", apple.at_line, kBoot1 + 3, ""},
      {"bad", "AT nonsense", kBoot1 + 1, ""},       {"mismatch", other.at_line, kBoot1 + 2, ""},
      {"old", old.at_line, kBoot1 + 4, ""},
  };
  const std::vector<StoredCursor> cursors = {{"Juzang", kOtherId, 77}, {"Jaquez", kStoreId, 5}};

  const auto restored = store.restore(rows, cursors, kNow);
  EXPECT_EQ(restored.records, 2u);
  EXPECT_EQ(restored.unreadable, 2u);
  EXPECT_EQ(restored.aged_out, 1u);

  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, kiwi.at_line);
  EXPECT_EQ(store.find("apple", kNow)->at_line, apple.at_line);
  for (const char* gone : {"bad", "mismatch", "other", "old"}) {
    EXPECT_FALSE(store.find(gone, kNow).has_value()) << gone;
  }
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kOtherId, 77}));
  EXPECT_EQ(store.position_of("Jaquez"), (StorePosition{kStoreId, 5}));

  // The records keep their LSNs and their sources.
  EXPECT_EQ(lines_since(store, 0), lines_of({apple, kiwi}));
  EXPECT_EQ(lines_since(store, kBoot1 + 3), lines_of({kiwi}));
  EXPECT_EQ(store.read_since(0, kBoot1 + 4, "Bernard", 0, 10).at_lines, lines_of({apple}));
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", 0, 10).at_lines, lines_of({apple}));

  // The dropped rows are erased from the file: three changes journaled.
  EXPECT_EQ(commits_.commits().size(), 3u);
  EXPECT_EQ(journal_.committed(), store.last_seq());

  // New LSNs are above the restored ones.
  const Record pear = record("pear", kNow);
  ASSERT_EQ(store.offer(pear, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_GT(store.last_seq(), kBoot2);
  EXPECT_EQ(lines_since(store, kBoot1 + 5), lines_of({pear}));
  const Record apple2 = record("apple", kNow);
  ASSERT_EQ(store.offer(apple2, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(lines_since(store, 0), lines_of({kiwi, pear, apple2}));
  EXPECT_EQ(lines_since(store, kBoot2), lines_of({pear, apple2}));

  // Restored records age out like any other.
  EXPECT_EQ(store.forget_aged_out(at(kNow.seconds + 50, 1), 10), 1u);  // kiwi
  EXPECT_FALSE(store.find("kiwi", kNow).has_value());
}

TEST_F(MemoryStoreTest, RestoreKeepsTheFirstRowForAClientAndErasesNone) {
  // An erase for a later row, readable or not, would name the client, and so drop the first
  // from the file.
  RecordStore store({}, journal_, kStoreId, 2);
  const Record first = record("kiwi", at(100));
  const Record second = record("kiwi", at(200));
  const auto restored = store.restore({{"kiwi", first.at_line, kBoot1 + 1, ""},
                                       {"kiwi", second.at_line, kBoot1 + 2, ""},
                                       {"kiwi", "AT nonsense", kBoot1 + 3, ""}},
                                      {}, kNow);
  EXPECT_EQ(restored.records, 1u);
  EXPECT_EQ(restored.unreadable, 2u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, first.at_line);
  EXPECT_EQ(lines_since(store, 0), lines_of({first}));
  EXPECT_EQ(store.last_seq(), kBoot2);
  EXPECT_TRUE(commits_.commits().empty());
}

TEST_F(MemoryStoreTest, RestoredRecordsAreComparedWithNewOnes) {
  RecordStore store({}, journal_, kStoreId, 2);
  const Record kiwi = record("kiwi", at(100), "Clark");
  store.restore({{"kiwi", kiwi.at_line, kBoot1 + 1, ""}}, {}, kNow);
  EXPECT_EQ(store.offer(record("kiwi", at(99), "Juzang"), "Juzang", kNow),
            RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.offer(record("kiwi", at(100), "Bernard"), "", kNow),
            RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kNotNewer);
  EXPECT_EQ(store.last_seq(), kBoot2);
  EXPECT_EQ(store.offer(record("kiwi", at(100), "Jaquez"), "", kNow),
            RecordStore::Outcome::kStored);
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(MemoryStoreTest, NewLsnsAreAboveEvenAnOddRestoredOne) {
  // A row numbered beyond this boot's start (a file from elsewhere, say) must not leave new
  // records sorting before it.
  RecordStore store({}, journal_, kStoreId, 2);
  const Record odd = record("odd", at(1));
  store.restore({{"odd", odd.at_line, kBoot2 + 1000, ""}}, {}, kNow);
  const Record kiwi = record("kiwi", at(1));
  ASSERT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kStored);
  const auto lines = lines_since(store, 0);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), kiwi.at_line);
  EXPECT_EQ(lines_since(store, store.last_seq() - 1), lines_of({kiwi}));
}

// ---- With a data file ----

TEST_F(MemoryStoreTest, RestoredRecordsSharingAnLsnAreBothKept) {
  // Only a damaged file numbers two records alike. Replacing one must not take the other
  // out of what catch-up and snapshots read.
  RecordStore store({}, journal_, kStoreId, 2);
  const Record kiwi = record("kiwi", at(1));
  const Record pear = record("pear", at(1));
  store.restore({{"kiwi", kiwi.at_line, kBoot1 + 7, ""}, {"pear", pear.at_line, kBoot1 + 7, ""}},
                {}, kNow);
  const Record pear2 = record("pear", at(2));
  ASSERT_EQ(store.offer(pear2, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(lines_since(store, 0), lines_of({kiwi, pear2}));
  const Record kiwi2 = record("kiwi", at(2));
  ASSERT_EQ(store.offer(kiwi2, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(lines_since(store, 0), lines_of({pear2, kiwi2}));
}

// Waits until the journal has committed `seq`; false after ten seconds.
bool wait_committed(Journal& journal, std::uint64_t seq) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  journal.when_committed(seq, [done] { done->set_value(); });
  return future.wait_for(seconds(10)) == std::future_status::ready;
}

class FileStoreTest : public testing::DataFileTest {
 protected:
  // One boot of a server's store on file_, opened as a server opens it; restore() is left
  // to the test.
  struct Boot {
    explicit Boot(const std::filesystem::path& file, RecordStore::Options options = {})
        : database(file, Sync::kWritten, contents),
          journal(&database, contents.boot << kBootShift, commits.on_commit(),
                  commits.on_failure()),
          store(options, journal, contents.store_id, contents.boot) {}
    RecordStore::Restored restore(Timestamp now = kNow) {
      return store.restore(contents.records, contents.cursors, now);
    }
    // Every change made so far is committed; false after ten seconds.
    bool all_committed() { return wait_committed(journal, store.last_seq()); }

    CommitReports commits;
    Contents contents;
    Database database;
    Journal journal;
    const ReleaseAtEnd release_at_end{commits};  // a held thread goes on, and the journal closes
    RecordStore store;
  };
};

TEST_F(FileStoreTest, RecordsAndCursorsSurviveARestart) {
  const Record kiwi = record("kiwi", at(100));
  const Record apple = record("apple", at(100), "Juzang");
  const Record kiwi2 = record("kiwi", at(101));
  std::string store_id;
  {
    Boot first(file_);
    ASSERT_EQ(first.contents.boot, 1u);
    store_id = first.contents.store_id;
    RecordStore& store = first.store;
    EXPECT_EQ(first.restore().records, 0u);
    ASSERT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kStored);
    ASSERT_EQ(store.offer(apple, "Juzang", kNow), RecordStore::Outcome::kStored);
    ASSERT_EQ(store.offer(kiwi2, "", kNow), RecordStore::Outcome::kStored);
    store.advance("Juzang", {kOtherId, 40});
    store.advance("Juzang", {kOtherId, 50});
    store.advance("Jaquez", {kStoreId, 7});
    EXPECT_EQ(store.last_seq(), kBoot1 + 6);
    ASSERT_TRUE(first.all_committed());
    EXPECT_EQ(first.journal.committed(), kBoot1 + 6);
    ASSERT_FALSE(first.commits.commits().empty());
    EXPECT_EQ(first.commits.commits().back(), kBoot1 + 6);
    EXPECT_TRUE(first.commits.failures().empty());
  }

  Boot second(file_);
  EXPECT_EQ(second.contents.boot, 2u);
  EXPECT_EQ(second.contents.store_id, store_id);
  const auto rows = sorted(second.contents.records);
  ASSERT_EQ(rows.size(), 2u);
  expect_record(rows[0], "apple", apple.at_line, kBoot1 + 2, "Juzang");
  expect_record(rows[1], "kiwi", kiwi2.at_line, kBoot1 + 3, "");

  RecordStore& store = second.store;
  const auto restored = second.restore();
  EXPECT_EQ(restored.records, 2u);
  EXPECT_EQ(restored.unreadable, 0u);
  EXPECT_EQ(restored.aged_out, 0u);
  EXPECT_EQ(store.store_id(), store_id);
  EXPECT_EQ(store.find("kiwi", kNow)->at_line, kiwi2.at_line);
  EXPECT_EQ(store.find("apple", kNow)->at_line, apple.at_line);
  EXPECT_EQ(store.position_of("Juzang"), (StorePosition{kOtherId, 50}));
  EXPECT_EQ(store.position_of("Jaquez"), (StorePosition{kStoreId, 7}));
  EXPECT_EQ(lines_since(store, 0), lines_of({apple, kiwi2}));
  EXPECT_EQ(lines_since(store, kBoot1 + 2), lines_of({kiwi2}));
  EXPECT_EQ(store.read_since(0, kAll, "Juzang", 0, 10).at_lines, lines_of({kiwi2}));

  const Record pear = record("pear", at(100));
  ASSERT_EQ(store.offer(pear, "", kNow), RecordStore::Outcome::kStored);
  EXPECT_EQ(store.last_seq(), kBoot2 + 1);
  EXPECT_EQ(lines_since(store, kBoot1 + 3), lines_of({pear}));
  ASSERT_TRUE(wait_committed(second.journal, kBoot2 + 1));
}

TEST_F(FileStoreTest, ForgottenAndDroppedRecordsLeaveTheFile) {
  const Record a = record("a", at(kNow.seconds - 50));
  const Record b = record("b", at(kNow.seconds));
  const RecordStore::Options options{.ttl = seconds(60)};
  {
    Boot boot(file_, options);
    ASSERT_EQ(boot.store.offer(a, "", kNow), RecordStore::Outcome::kStored);
    ASSERT_EQ(boot.store.offer(b, "", kNow), RecordStore::Outcome::kStored);
    ASSERT_TRUE(boot.all_committed());
  }

  // a ages out while the server runs: forgotten, and erased from the file.
  {
    Boot boot(file_, options);
    ASSERT_EQ(boot.contents.records.size(), 2u);
    ASSERT_EQ(boot.restore().records, 2u);
    const std::uint64_t seq = boot.store.last_seq();
    EXPECT_EQ(boot.store.forget_aged_out(at(kNow.seconds + 20), 10), 1u);
    EXPECT_GT(boot.store.last_seq(), seq);
    ASSERT_TRUE(boot.all_committed());
  }

  // b ages out while the server is down: restore drops it, and erases it from the file.
  {
    Boot boot(file_, options);
    ASSERT_EQ(boot.contents.records.size(), 1u);
    EXPECT_EQ(boot.contents.records[0].client, "b");
    const auto restored = boot.restore(at(kNow.seconds + 61));
    EXPECT_EQ(restored.records, 0u);
    EXPECT_EQ(restored.aged_out, 1u);
    EXPECT_EQ(boot.store.size(), 0u);
    ASSERT_TRUE(boot.all_committed());
  }
  EXPECT_TRUE(open().records.empty());
}

TEST_F(FileStoreTest, UnreadableRowsAreErasedFromTheFile) {
  const Record kiwi = record("kiwi", at(100));
  const Record other = record("other", at(100));
  {
    Contents contents;
    Database database(file_, Sync::kWritten, contents);
    Change put_kiwi{Change::Kind::kPut, 1, "kiwi", kiwi.at_line, kBoot1 + 1, ""};
    Change put_bad{Change::Kind::kPut, 2, "bad", "AT nonsense", kBoot1 + 2, ""};
    Change put_mismatch{Change::Kind::kPut, 3, "mismatch", other.at_line, kBoot1 + 3, ""};
    database.write(ChangeBatch{put_kiwi, put_bad, put_mismatch});
  }
  {
    Boot boot(file_);
    ASSERT_EQ(boot.contents.records.size(), 3u);
    const auto restored = boot.restore();
    EXPECT_EQ(restored.records, 1u);
    EXPECT_EQ(restored.unreadable, 2u);
    EXPECT_EQ(restored.aged_out, 0u);
    ASSERT_TRUE(boot.all_committed());
  }
  const auto rows = open().records;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].client, "kiwi");
  EXPECT_EQ(rows[0].lsn, kBoot1 + 1);
}

// A batch's MARK tells the neighbour it has every record of the store up to the mark. A
// record that is in the file at an LSN up to the mark must therefore be in the batch: were
// the server to die before its replacement is committed, it would come back with that
// record at that LSN, and the neighbour, whose position is past it, would never ask for it.
TEST_F(FileStoreTest, AMarkNeverCoversACommittedRecordLeftUnsent) {
  Boot boot(file_);
  RecordStore& store = boot.store;
  Journal& journal = boot.journal;
  CommitReports& commits = boot.commits;
  const Record kiwi = record("kiwi", at(100));
  const Record pear = record("pear", at(100));
  ASSERT_EQ(store.offer(pear, "", kNow), RecordStore::Outcome::kStored);
  ASSERT_EQ(store.offer(kiwi, "", kNow), RecordStore::Outcome::kStored);
  const std::uint64_t kiwi_lsn = store.last_seq();
  ASSERT_TRUE(wait_committed(journal, kiwi_lsn));

  // apple is committed, and the journal's thread held before it writes anything else.
  commits.hold();
  const Record apple = record("apple", at(100));
  ASSERT_EQ(store.offer(apple, "", kNow), RecordStore::Outcome::kStored);
  ASSERT_TRUE(commits.wait_until_held());
  // kiwi is replaced in memory; the replacement is not committed.
  const Record kiwi2 = record("kiwi", at(101));
  ASSERT_EQ(store.offer(kiwi2, "", kNow), RecordStore::Outcome::kStored);
  const std::uint64_t up_to = journal.committed();
  ASSERT_EQ(up_to, kiwi_lsn + 1);
  ASSERT_LT(up_to, store.last_seq());

  // What a link would send now: the records up to the last commit, and a MARK.
  auto batch = store.read_since(0, up_to, "Bernard", up_to, 512);
  EXPECT_EQ(batch.at_lines, lines_of({pear, apple}));
  EXPECT_EQ(batch.through, up_to);  // all of it considered: the link goes on from there
  // The batch does not hold kiwi, so its MARK stops short of kiwi's committed LSN.
  EXPECT_EQ(batch.mark, kiwi_lsn - 1);
  // A batch that ends before kiwi's LSN is not held back.
  batch = store.read_since(0, kiwi_lsn - 1, "Bernard", up_to, 512);
  EXPECT_EQ(batch.at_lines, lines_of({pear}));
  EXPECT_EQ(batch.mark, kiwi_lsn - 1);

  // Once the replacement is committed, the mark claims all the batch again.
  commits.release();
  ASSERT_TRUE(wait_committed(journal, store.last_seq()));
  const std::uint64_t now_up_to = journal.committed();
  batch = store.read_since(0, now_up_to, "Bernard", now_up_to, 512);
  EXPECT_EQ(batch.at_lines, lines_of({pear, apple, kiwi2}));
  EXPECT_EQ(batch.through, now_up_to);
  EXPECT_EQ(batch.mark, now_up_to);
}

}  // namespace
}  // namespace herd::store
