#include "store/record_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace herd::store {
namespace {

protocol::Record record(std::string client, std::int64_t seconds, std::string server) {
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
  EXPECT_TRUE(store.offer(record("kiwi", 10, "Clark")));
  ASSERT_TRUE(store.find("kiwi").has_value());
  EXPECT_EQ(store.find("kiwi")->at_line, "AT Clark +0.000000000 kiwi +1+2 10");
}

TEST(RecordStore, NewerReplacesOlderButNotTheReverse) {
  RecordStore store;
  ASSERT_TRUE(store.offer(record("kiwi", 10, "Clark")));
  EXPECT_TRUE(store.offer(record("kiwi", 11, "Bernard")));
  EXPECT_FALSE(store.offer(record("kiwi", 10, "Juzang")));
  EXPECT_EQ(store.find("kiwi")->at_line, "AT Bernard +0.000000000 kiwi +1+2 11");
}

TEST(RecordStore, SameRecordTwiceChangesNothing) {
  RecordStore store;
  ASSERT_TRUE(store.offer(record("kiwi", 10, "Clark")));
  EXPECT_FALSE(store.offer(record("kiwi", 10, "Clark")));
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

TEST(RecordStore, ClientsAreIndependent) {
  RecordStore store;
  store.offer(record("kiwi", 10, "Clark"));
  store.offer(record("lemon", 5, "Clark"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("lemon")->client_time.seconds, 5);
}

TEST(RecordStore, ConcurrentOffersKeepTheNewest) {
  RecordStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 1000; ++i) store.offer(record("kiwi", i * 4 + t, "Clark"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.find("kiwi")->client_time.seconds, 3999);
}

}  // namespace
}  // namespace herd::store
