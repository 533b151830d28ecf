// FrugalSource in front of a stand-in for the paid upstream, and its token bucket.
//
// The stand-in counts calls and holds each answer until the test releases it, so that
// "under way at once" is a state the test sets up, not a race it hopes to win.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "limits/token_bucket.hpp"
#include "log/event_log.hpp"
#include "places/frugal_source.hpp"
#include "protocol/places_json.hpp"

namespace herd::places {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The stand-in's answer names the radius it was asked for, in place of RADIUS.
constexpr std::string_view kOk = "{\n   \"radius\" : \"RADIUS\",\n   \"status\" : \"OK\"\n}\n";

std::string ok(const std::string& radius) {
  std::string text(kOk);
  return text.replace(text.find("RADIUS"), 6, radius);
}

// What the upstream stand-in saw; shared with the test, which keeps it after the source goes.
// Counters are atomic for the test with several threads, which reads them from its own.
struct Upstream {
  std::atomic<int> calls = 0;
  std::atomic<int> in_flight = 0;
  std::atomic<int> most_in_flight = 0;
  std::atomic<bool> hold_polling = false;  // calls wait, polling, until this is cleared
  std::vector<PlacesQuery> queries;
  std::string answer{kOk};
  bool hold = false;  // calls wait until released
  bool fail = false;  // calls throw
  std::deque<std::shared_ptr<asio::steady_timer>> held;

  void release_one() {
    ASSERT_FALSE(held.empty());
    held.front()->cancel();
    held.pop_front();
  }
  void release_all() {
    hold = false;
    while (!held.empty()) release_one();
  }
};

class StandIn : public PlacesSource {
 public:
  StandIn(asio::any_io_executor executor, std::shared_ptr<Upstream> upstream)
      : executor_(std::move(executor)), upstream_(std::move(upstream)) {}

  asio::awaitable<std::string> nearby(PlacesQuery query) override {
    auto up = upstream_;
    ++up->calls;
    up->most_in_flight = std::max(up->most_in_flight.load(), ++up->in_flight);
    up->queries.push_back(query);
    asio::steady_timer poll(executor_);
    while (up->hold_polling) {
      poll.expires_after(1ms);
      co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (up->hold) {
      auto gate = std::make_shared<asio::steady_timer>(executor_, Clock::time_point::max());
      up->held.push_back(gate);
      co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    --up->in_flight;
    if (up->fail) throw std::runtime_error("stand-in failed");
    std::string answer = up->answer;
    if (auto at = answer.find("RADIUS"); at != std::string::npos) {
      answer.replace(at, 6, query.radius_metres);
    }
    co_return answer;
  }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<Upstream> upstream_;
};

PlacesQuery query(std::string radius = "10000", std::string latitude = "34.068930") {
  return {std::move(latitude), "-118.445127", std::move(radius)};
}

std::string limit_body(int per_second) {
  return protocol::places_error_body("OVER_QUERY_LIMIT",
                                     "herd's limit of " + std::to_string(per_second) +
                                         " places calls per second reached; no call made");
}

class FrugalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_dir_ = fs::temp_directory_path() /
               ("herd-frugal-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(log_dir_);
    config::LogConfig config;
    config.dir = log_dir_.string();
    log_ = std::make_unique<log::EventLog>(config, "frugal");
    options_.max_calls_per_second = 0;
    options_.now = [this] { return now_; };
  }

  void TearDown() override {
    source_.reset();
    log_.reset();
    fs::remove_all(log_dir_);
  }

  FrugalSource& source() {
    if (!source_) {
      source_ = std::make_unique<FrugalSource>(
          io_.get_executor(), std::make_unique<StandIn>(io_.get_executor(), upstream_), options_,
          *log_);
    }
    return *source_;
  }

  std::future<std::string> start(PlacesQuery q) {
    return asio::co_spawn(io_, source().nearby(std::move(q)), asio::use_future);
  }

  // Runs what is ready now, without waiting on anything held.
  void settle() {
    io_.restart();
    for (int i = 0; i < 100; ++i) io_.poll();
  }

  std::string ask(PlacesQuery q) {
    auto answer = start(std::move(q));
    io_.restart();
    io_.run();
    return answer.get();
  }

  static bool ready(std::future<std::string>& answer) {
    return answer.wait_for(0s) == std::future_status::ready;
  }

  asio::io_context io_;
  std::shared_ptr<Upstream> upstream_ = std::make_shared<Upstream>();
  FrugalOptions options_;
  Clock::time_point now_ = Clock::time_point() + 1h;
  fs::path log_dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<FrugalSource> source_;
};

TEST_F(FrugalTest, IdenticalQueriesUnderWayShareOneCall) {
  upstream_->hold = true;
  std::vector<std::future<std::string>> answers;
  answers.reserve(8);
  for (int i = 0; i < 8; ++i) answers.push_back(start(query()));
  settle();
  EXPECT_EQ(upstream_->calls, 1);
  for (auto& answer : answers) EXPECT_FALSE(ready(answer));
  upstream_->release_all();
  io_.restart();
  io_.run();
  for (auto& answer : answers) EXPECT_EQ(answer.get(), ok("10000"));
  EXPECT_EQ(upstream_->calls, 1);
}

TEST_F(FrugalTest, AnotherRadiusOrLocationIsAnotherCall) {
  upstream_->hold = true;
  auto first = start(query("10000"));
  auto other_radius = start(query("2500"));
  auto other_place = start(query("10000", "35"));
  auto same = start(query("10000"));
  settle();
  EXPECT_EQ(upstream_->calls, 3);
  upstream_->release_all();
  io_.restart();
  io_.run();
  EXPECT_EQ(first.get(), ok("10000"));
  EXPECT_EQ(other_radius.get(), ok("2500"));
  EXPECT_EQ(other_place.get(), ok("10000"));
  EXPECT_EQ(same.get(), ok("10000"));
}

TEST_F(FrugalTest, AfterACallEndsTheNextOneIsNewWithoutACache) {
  EXPECT_EQ(ask(query()), ok("10000"));
  EXPECT_EQ(ask(query()), ok("10000"));
  EXPECT_EQ(upstream_->calls, 2);
}

TEST_F(FrugalTest, CacheAnswersWithinItsTimeToLive) {
  options_.cache_ttl = 1000ms;
  EXPECT_EQ(ask(query()), ok("10000"));
  now_ += 999ms;
  EXPECT_EQ(ask(query()), ok("10000"));
  EXPECT_EQ(upstream_->calls, 1);
  EXPECT_EQ(ask(query("1")), ok("1"));  // another query is another entry
  EXPECT_EQ(upstream_->calls, 2);
  now_ += 1ms;
  EXPECT_EQ(ask(query()), ok("10000"));
  EXPECT_EQ(upstream_->calls, 3);
}

TEST_F(FrugalTest, CacheKeepsZeroResultsButNoError) {
  options_.cache_ttl = 60s;
  upstream_->answer = protocol::places_error_body("REQUEST_DENIED", "no key");
  ask(query());
  ask(query());
  EXPECT_EQ(upstream_->calls, 2);
  upstream_->answer = "this is not JSON";
  ask(query());
  ask(query());
  EXPECT_EQ(upstream_->calls, 4);
  upstream_->answer =
      "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : "
      "\"ZERO_RESULTS\"\n}";
  ask(query());
  ask(query());
  EXPECT_EQ(upstream_->calls, 5);
}

TEST_F(FrugalTest, LimitAnswersOverQueryLimitWithoutACall) {
  options_.max_calls_per_second = 2;
  options_.burst = 3;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(ask(query(std::to_string(i + 1))), ok(std::to_string(i + 1)));
  EXPECT_EQ(ask(query("4")), limit_body(2));
  EXPECT_EQ(upstream_->calls, 3);
  now_ += 500ms;  // one token back
  EXPECT_EQ(ask(query("5")), ok("5"));
  EXPECT_EQ(ask(query("6")), limit_body(2));
  EXPECT_EQ(upstream_->calls, 4);
}

TEST_F(FrugalTest, CoalescedAndCachedQueriesCostNoToken) {
  options_.max_calls_per_second = 1;
  options_.burst = 1;
  options_.cache_ttl = 60s;
  upstream_->hold = true;
  auto first = start(query());
  auto second = start(query());
  settle();
  upstream_->release_all();
  io_.restart();
  io_.run();
  EXPECT_EQ(first.get(), ok("10000"));
  EXPECT_EQ(second.get(), ok("10000"));
  EXPECT_EQ(ask(query()), ok("10000"));
  EXPECT_EQ(ask(query("1")), limit_body(1));
  EXPECT_EQ(upstream_->calls, 1);
}

TEST_F(FrugalTest, NoMoreCallsAtOnceThanTheCap) {
  options_.max_concurrent_calls = 2;
  upstream_->hold = true;
  std::vector<std::future<std::string>> answers;
  for (int i = 1; i <= 5; ++i) answers.push_back(start(query(std::to_string(i))));
  settle();
  EXPECT_EQ(upstream_->calls, 2);
  upstream_->release_one();
  settle();
  EXPECT_EQ(upstream_->calls, 3);
  EXPECT_EQ(upstream_->in_flight, 2);
  EXPECT_TRUE(ready(answers[0]));
  upstream_->release_all();
  io_.restart();
  io_.run();
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(answers[i - 1].get(), ok(std::to_string(i)));
  EXPECT_EQ(upstream_->calls, 5);
  EXPECT_EQ(upstream_->most_in_flight, 2);
}

TEST_F(FrugalTest, WaitingForASlotPastTheDeadlineIsOverQueryLimit) {
  options_.max_concurrent_calls = 1;
  options_.slot_wait = 20ms;
  upstream_->hold = true;
  auto first = start(query("1"));
  auto second = start(query("2"));
  auto joined = start(query("2"));
  io_.restart();
  for (int i = 0; i < 500 && !ready(second); ++i) io_.run_for(10ms);
  ASSERT_TRUE(ready(second));
  const std::string refused = protocol::places_error_body(
      "OVER_QUERY_LIMIT",
      "herd's limit of 1 places calls at once stayed reached for 20 ms; no call made");
  EXPECT_EQ(second.get(), refused);
  EXPECT_EQ(upstream_->calls, 1);
  upstream_->release_all();
  io_.restart();
  io_.run();
  EXPECT_EQ(joined.get(), refused);
  EXPECT_EQ(first.get(), ok("1"));
}

TEST_F(FrugalTest, AThrowingUpstreamStillAnswersEveryWaiter) {
  upstream_->hold = true;
  upstream_->fail = true;
  auto first = start(query());
  auto second = start(query());
  settle();
  upstream_->release_all();
  io_.restart();
  io_.run();
  const std::string failed = protocol::places_error_body("UNKNOWN_ERROR", "stand-in failed");
  EXPECT_EQ(first.get(), failed);
  EXPECT_EQ(second.get(), failed);
  upstream_->fail = false;
  EXPECT_EQ(ask(query()), ok("10000"));  // the failed call left nothing behind
}

TEST_F(FrugalTest, IdenticalQueriesNeverOverlapWithSeveralThreads) {
  // How many queries join the first call depends on the threads; that identical queries
  // never have two calls under way at once does not.
  upstream_->hold_polling = true;
  std::vector<std::future<std::string>> answers;
  answers.reserve(64);
  for (int i = 0; i < 64; ++i) answers.push_back(start(query()));
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) threads.emplace_back([this] { io_.run(); });
  while (upstream_->calls == 0) std::this_thread::sleep_for(1ms);
  upstream_->hold_polling = false;
  for (auto& answer : answers) EXPECT_EQ(answer.get(), ok("10000"));
  for (auto& thread : threads) thread.join();
  EXPECT_GE(upstream_->calls, 1);
  EXPECT_EQ(upstream_->most_in_flight, 1);
}

}  // namespace
}  // namespace herd::places
