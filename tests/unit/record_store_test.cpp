#include "store/record_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace herd::store {
namespace {

protocol::Record record(const std::string& client, std::int64_t seconds,
                        const std::string& server) {
  protocol::Record r;
  r.client_id = client;
  r.location = {"+1", "+2"};
  r.client_time = {seconds, 0};
  r.at_line = "AT " + server + " +0.000000000 " + client + " +1+2 " + std::to_string(seconds);
  return r;
}

TEST(RecordStore, UnknownClientIsNotFound) {
  RecordStore store;
  EXPECT_FALSE(store.find("kiwi").has_value());
  EXPECT_EQ(store.size(), 0u);
}

TEST(RecordStore, FirstRecordIsStored) {
  RecordStore store;
  EXPECT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 10, "Clark")));
  ASSERT_TRUE(store.find("kiwi").has_value());
  EXPECT_EQ(store.find("kiwi")->at_line, "AT Clark +0.000000000 kiwi +1+2 10");
}

TEST(RecordStore, NewerReplacesOlderButNotTheReverse) {
  RecordStore store;
  ASSERT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 10, "Clark")));
  EXPECT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 11, "Bernard")));
  EXPECT_EQ(RecordStore::Outcome::kNotNewer, store.offer(record("kiwi", 10, "Juzang")));
  EXPECT_EQ(store.find("kiwi")->at_line, "AT Bernard +0.000000000 kiwi +1+2 11");
}

TEST(RecordStore, SameRecordTwiceChangesNothing) {
  RecordStore store;
  ASSERT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 10, "Clark")));
  EXPECT_EQ(RecordStore::Outcome::kNotNewer, store.offer(record("kiwi", 10, "Clark")));
}

TEST(RecordStore, EqualTimesSettleOnTheGreaterLineInEitherOrder) {
  RecordStore a, b;
  auto bernard = record("kiwi", 10, "Bernard");
  auto clark = record("kiwi", 10, "Clark");
  a.offer(bernard);
  a.offer(clark);
  b.offer(clark);
  b.offer(bernard);
  EXPECT_EQ(a.find("kiwi")->at_line, clark.at_line);
  EXPECT_EQ(b.find("kiwi")->at_line, clark.at_line);
}

TEST(RecordStore, AFullStoreRefusesNewClientsButUpdatesKnownOnes) {
  RecordStore store(2);
  ASSERT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 10, "Clark")));
  ASSERT_EQ(RecordStore::Outcome::kStored, store.offer(record("lemon", 10, "Clark")));
  EXPECT_EQ(RecordStore::Outcome::kFull, store.offer(record("mango", 10, "Clark")));
  EXPECT_FALSE(store.find("mango").has_value());
  EXPECT_EQ(RecordStore::Outcome::kStored, store.offer(record("kiwi", 11, "Clark")));
  EXPECT_EQ(store.size(), 2u);
}

TEST(RecordStore, ClientsAreIndependent) {
  RecordStore store;
  store.offer(record("kiwi", 10, "Clark"));
  store.offer(record("lemon", 5, "Clark"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("lemon")->client_time.seconds, 5);
}

TEST(RecordStore, ConcurrentOffersKeepTheNewest) {
  RecordStore store;
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 1000; ++i) store.offer(record("kiwi", i * kThreads + t, "Clark"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.find("kiwi")->client_time.seconds, 3999);
}

}  // namespace
}  // namespace herd::store
