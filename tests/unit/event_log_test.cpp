#include "log/event_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "manual_loop.hpp"

namespace herd::log {
namespace {

namespace fs = std::filesystem;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("herd-log-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    config_.dir = (root_ / "nested" / "logs").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path file(const std::string& name) const { return fs::path(config_.dir) / name; }

  std::vector<std::string> lines(const std::string& name = "Clark.log") const {
    std::ifstream in(file(name), std::ios::binary);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // The lines of the log with their timestamps taken off, each checked for its form.
  std::vector<std::string> events(const std::string& name = "Clark.log") const {
    static const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z )");
    std::vector<std::string> out;
    for (const std::string& line : lines(name)) {
      std::smatch match;
      EXPECT_TRUE(std::regex_search(line, match, stamp)) << line;
      out.push_back(match.empty() ? line : match.suffix().str());
    }
    return out;
  }

  fs::path root_;
  config::LogConfig config_;
};

TEST_F(EventLogTest, CreatesTheDirectoryAndTheServersFile) {
  {
    EventLog log(config_, "Clark");
    log.event("started");
  }
  EXPECT_TRUE(fs::is_regular_file(file("Clark.log")));
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO started"}));
}

TEST_F(EventLogTest, AppendsToAnExistingFile) {
  {
    EventLog log(config_, "Clark");
    log.event("first run");
  }
  {
    EventLog log(config_, "Clark");
    log.event("second run");
  }
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO first run", "INFO second run"}));
}

TEST_F(EventLogTest, TimestampIsUtcWithMicroseconds) {
  // A zone five hours east of UTC: a local-time timestamp would be five hours off. The test
  // is alone on its thread, so changing the environment races with nothing.
  // NOLINTBEGIN(concurrency-mt-unsafe)
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz ? old_tz : "";
  ::setenv("TZ", "HERD-5", 1);
  ::tzset();
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  {
    EventLog log(config_, "Clark");
    log.event("tick");
  }
  const auto after = std::chrono::system_clock::now();
  if (old_tz) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  // NOLINTEND(concurrency-mt-unsafe)

  const auto all = lines();
  ASSERT_EQ(all.size(), 1u);
  const std::regex form(R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{6}Z INFO tick$)");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(all[0], match, form)) << all[0];
  std::tm tm{};
  tm.tm_year = std::stoi(match[1]) - 1900;
  tm.tm_mon = std::stoi(match[2]) - 1;
  tm.tm_mday = std::stoi(match[3]);
  tm.tm_hour = std::stoi(match[4]);
  tm.tm_min = std::stoi(match[5]);
  tm.tm_sec = std::stoi(match[6]);
  const auto logged = std::chrono::system_clock::from_time_t(::timegm(&tm));
  EXPECT_LE(before, logged);
  EXPECT_LE(logged, after);
}

TEST_F(EventLogTest, ReceivedSentEventAndFailureLines) {
  {
    EventLog log(config_, "Clark");
    log.received("client 3 127.0.0.1:5555", "IAMAT kiwi +1+2 3");
    log.sent("client 3 127.0.0.1:5555", "AT Clark +0.000000001 kiwi +1+2 3\n");
    log.sent("neighbour Jaquez", "AT line\n{\n   \"results\" : []\n}\n\n");
    log.event("client 3 127.0.0.1:5555 closed");
    log.failure("neighbour Jaquez: connection refused, retry in 200 ms");
  }
  EXPECT_EQ(events(), (std::vector<std::string>{
                          "INFO client 3 127.0.0.1:5555 < IAMAT kiwi +1+2 3",
                          "INFO client 3 127.0.0.1:5555 > AT Clark +0.000000001 kiwi +1+2 3",
                          R"(INFO neighbour Jaquez > AT line\n{\n   "results" : []\n})",
                          "INFO client 3 127.0.0.1:5555 closed",
                          "WARN neighbour Jaquez: connection refused, retry in 200 ms",
                      }));
}

TEST_F(EventLogTest, EventsAreVisibleWithoutFlushOrClose) {
  EventLog log(config_, "Clark");
  log.received("client 1 127.0.0.1:1", "WHATSAT kiwi 10 5");
  log.failure("places source: timed out");
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO client 1 127.0.0.1:1 < WHATSAT kiwi 10 5",
                                                "WARN places source: timed out"}));
}

TEST_F(EventLogTest, DeferredFlushesWaitForTheLoopsTurn) {
  herd::testing::ManualLoop loop;
  EventLog log(config_, "Clark");
  log.defer_flushes(loop.post());
  log.event("first");
  log.received("client 1 127.0.0.1:1", "IAMAT kiwi +1+2 3");
  // Both in the file's buffer; one flush posted for the two.
  EXPECT_EQ(events(), std::vector<std::string>{});
  EXPECT_EQ(loop.queued(), 1u);
  loop.run_queued();
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO first",
                                                "INFO client 1 127.0.0.1:1 < IAMAT kiwi +1+2 3"}));
  log.event("third");
  EXPECT_EQ(loop.queued(), 1u);
  loop.run_queued();
  EXPECT_EQ(events().size(), 3u);
}

TEST_F(EventLogTest, AFailureIsWrittenAtOnceWithWhatCameBefore) {
  herd::testing::ManualLoop loop;
  EventLog log(config_, "Clark");
  log.defer_flushes(loop.post());
  log.event("before");
  log.failure("connection refused");
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO before", "WARN connection refused"}));
}

TEST_F(EventLogTest, ControlCharactersAreEscaped) {
  {
    EventLog log(config_, "Clark");
    log.received("client 1 127.0.0.1:1", std::string("a\nb\rc\x01"
                                                     "d\x7f"
                                                     "e\tf\x1b[2J\xc3\xa9") +
                                             '\0' + "z");
    log.event("forged\n2026-01-01T00:00:00.000000Z INFO fake");
  }
  EXPECT_EQ(events(), (std::vector<std::string>{
                          R"(INFO client 1 127.0.0.1:1 < a\nb\rc\x01d\x7fe\x09f\x1b[2J)"
                          "\xc3\xa9"
                          R"(\x00z)",
                          R"(INFO forged\n2026-01-01T00:00:00.000000Z INFO fake)",
                      }));
}

TEST_F(EventLogTest, LongLinesAreCutWithTheirLengthNoted) {
  config_.max_line = 10;
  {
    EventLog log(config_, "Clark");
    log.received("p", "0123456789");                 // exactly the maximum: kept whole
    log.received("p", "0123456789ABCDEFGHIJKLMNO");  // 25 bytes
    log.sent("p", std::string(30, 'x') + "\n");      // the newline is not counted
    log.event("\n\n\n\n\n\n\n\n\n\n\n\n");           // cut before escaping
  }
  EXPECT_EQ(events(), (std::vector<std::string>{
                          "INFO p < 0123456789",
                          "INFO p < 0123456789 ... (25 bytes)",
                          "INFO p > xxxxxxxxxx ... (30 bytes)",
                          R"(INFO \n\n\n\n\n\n\n\n\n\n ... (12 bytes))",
                      }));
}

TEST_F(EventLogTest, FilesRotateBySize) {
  config_.max_bytes = 1000;
  config_.max_files = 2;
  {
    EventLog log(config_, "Clark");
    for (int i = 0; i < 100; ++i) log.event(std::string(80, static_cast<char>('a' + i % 26)));
  }
  EXPECT_TRUE(fs::is_regular_file(file("Clark.log")));
  EXPECT_TRUE(fs::is_regular_file(file("Clark.1.log")));
  EXPECT_TRUE(fs::is_regular_file(file("Clark.2.log")));
  EXPECT_FALSE(fs::exists(file("Clark.3.log")));
  for (const char* name : {"Clark.log", "Clark.1.log", "Clark.2.log"}) {
    EXPECT_LE(fs::file_size(file(name)), 1000u) << name;
  }
  // The newest event is in the current file.
  const auto last = events();
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back(), "INFO " + std::string(80, static_cast<char>('a' + 99 % 26)));
}

TEST_F(EventLogTest, ReopenSendsLaterEventsToAFileAtTheConfiguredPath) {
  EventLog log(config_, "Clark");
  log.event("before");
  log.flush();
  fs::rename(file("Clark.log"), file("Clark.log.rotated"));
  log.reopen();
  log.event("after");
  log.flush();
  EXPECT_EQ(events("Clark.log.rotated"), (std::vector<std::string>{"INFO before"}));
  // The same layout in the new file: the pattern went with it.
  EXPECT_EQ(events(), (std::vector<std::string>{"INFO log reopened", "INFO after"}));
}

TEST_F(EventLogTest, ReopenWhileOtherThreadsLogLosesNoEvent) {
  constexpr int kThreads = 4;
  constexpr int kEvents = 2000;
  constexpr int kReopens = 20;
  std::multiset<std::string> logged;
  {
    EventLog log(config_, "Clark");
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kEvents; ++i) {
          log.event("thread " + std::to_string(t) + " event " + std::to_string(i));
        }
      });
    }
    for (int r = 0; r < kReopens; ++r) {
      fs::rename(file("Clark.log"), file("Clark.log." + std::to_string(r)));
      log.reopen();
    }
    for (auto& thread : threads) thread.join();
  }
  for (int r = 0; r <= kReopens; ++r) {
    const std::string name = r == kReopens ? "Clark.log" : "Clark.log." + std::to_string(r);
    for (const std::string& event : events(name)) {
      if (event != "INFO log reopened") logged.insert(event);
    }
  }
  std::multiset<std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEvents; ++i) {
      expected.insert("INFO thread " + std::to_string(t) + " event " + std::to_string(i));
    }
  }
  EXPECT_EQ(logged, expected);
}

TEST_F(EventLogTest, UnusableDirectoryIsAConfigError) {
  fs::create_directories(root_);
  std::ofstream(root_ / "plain-file") << "x";
  config_.dir = (root_ / "plain-file" / "logs").string();
  try {
    EventLog log(config_, "Clark");
    FAIL() << "no error";
  } catch (const config::ConfigError& error) {
    EXPECT_EQ(
        std::string(error.what()).rfind("log.dir: cannot create \"" + config_.dir + "\": ", 0), 0u)
        << error.what();
  }
}

TEST(RedactUrl, ReplacesTheValueOfEveryKeyParameter) {
  EXPECT_EQ(redact_url("https://h/p?key=SECRET&location=1,2&radius=10"),
            "https://h/p?key=REDACTED&location=1,2&radius=10");
  EXPECT_EQ(redact_url("https://h/p?location=1,2&key=SECRET&radius=10"),
            "https://h/p?location=1,2&key=REDACTED&radius=10");
  EXPECT_EQ(redact_url("https://h/p?location=1,2&key=SECRET"),
            "https://h/p?location=1,2&key=REDACTED");
  EXPECT_EQ(redact_url("https://h/p?key=A&x=1&key=B"), "https://h/p?key=REDACTED&x=1&key=REDACTED");
  EXPECT_EQ(redact_url("https://h/p?key=SECRET#key=frag"), "https://h/p?key=REDACTED#key=frag");
  EXPECT_EQ(redact_url("https://h/p?key="), "https://h/p?key=REDACTED");
}

TEST(RedactUrl, LeavesOtherParametersAlone) {
  EXPECT_EQ(redact_url("https://h/p?location=1,2&radius=10"), "https://h/p?location=1,2&radius=10");
  EXPECT_EQ(redact_url("https://h/p?monkey=1&keys=2&akey=3"), "https://h/p?monkey=1&keys=2&akey=3");
  EXPECT_EQ(redact_url("https://h/key=1"), "https://h/key=1");
  EXPECT_EQ(redact_url("https://h/p"), "https://h/p");
  EXPECT_EQ(redact_url("https://h/p?"), "https://h/p?");
  EXPECT_EQ(redact_url(""), "");
}

}  // namespace
}  // namespace herd::log
