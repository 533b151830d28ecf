// The places source and its HTTP client against real local servers, plain and TLS.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "canned_http_server.hpp"
#include "log/event_log.hpp"
#include "places/google_legacy.hpp"
#include "places/http_client.hpp"

namespace herd::places {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using herd::testing::CannedServer;
using herd::testing::CannedServerOptions;
using herd::testing::http_answer;

// Characters that must be percent-encoded, so that the request line shows the encoding.
constexpr const char* kKey = "s3cr3t-KEY/with+and&";
constexpr const char* kEncodedKey = "s3cr3t-KEY%2Fwith%2Band%26";
constexpr const char* kPath = "/maps/api/place/nearbysearch/json";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  io.run();
  return result.get();
}

PlacesQuery ucla() {
  return {"34.068930", "-118.445127", "10000"};
}

CannedServerOptions answering(std::string answer) {
  CannedServerOptions options;
  options.answer = std::move(answer);
  return options;
}

HttpRequest get_request(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

class PlacesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = std::make_unique<herd::testing::TestPki>(); }
  static void TearDownTestSuite() { pki_.reset(); }

  void SetUp() override {
    log_dir_ =
        pki_->dir /
        ("log-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    config::LogConfig config;
    config.dir = log_dir_.string();
    log_ = std::make_unique<log::EventLog>(config, "places");
  }

  void TearDown() override {
    // Whatever a test did, the key reached no log line.
    log_->flush();
    log_.reset();
    if (!fs::exists(log_dir_)) return;
    for (const auto& entry : fs::recursive_directory_iterator(log_dir_)) {
      std::string text = read_file(entry.path());
      EXPECT_EQ(text.find(kKey), std::string::npos) << entry.path();
      EXPECT_EQ(text.find(kEncodedKey), std::string::npos) << entry.path();
    }
  }

  std::string nearby(const std::string& url, const std::string& ca_file = "",
                     std::chrono::milliseconds timeout = 3000ms) {
    auto http = std::make_shared<HttpClient>(io_.get_executor(), ca_file, timeout);
    GoogleLegacySource source({http, url, kKey, *log_});
    return run(io_, source.nearby(ucla()));
  }

  static std::string url_of(const CannedServer& server, const std::string& scheme = "http",
                            const std::string& host = "127.0.0.1") {
    return scheme + "://" + host + ":" + std::to_string(server.port()) + kPath;
  }

  static std::string ca() { return pki_->ca.string(); }

  static CannedServerOptions tls_options(std::string answer) {
    CannedServerOptions options;
    options.answer = std::move(answer);
    options.cert = pki_->server_cert;
    options.key = pki_->server_key;
    return options;
  }

  // An UNKNOWN_ERROR body whose error_message names `cause` and holds no key.
  static void expect_unknown_error(const std::string& body, const std::string& cause) {
    boost::json::value value = boost::json::parse(body);
    ASSERT_TRUE(value.is_object()) << body;
    const auto& object = value.as_object();
    EXPECT_EQ(object.at("status"), "UNKNOWN_ERROR") << body;
    EXPECT_TRUE(object.at("results").as_array().empty()) << body;
    EXPECT_TRUE(object.at("html_attributions").as_array().empty()) << body;
    std::string message(object.at("error_message").as_string());
    EXPECT_NE(message.find(cause), std::string::npos) << message;
    EXPECT_EQ(message.find(kKey), std::string::npos) << message;
    EXPECT_EQ(message.find(kEncodedKey), std::string::npos) << message;
    EXPECT_EQ(message.find("key="), std::string::npos) << message;
  }

  static std::unique_ptr<herd::testing::TestPki> pki_;
  asio::io_context io_;
  fs::path log_dir_;
  std::unique_ptr<log::EventLog> log_;
};

std::unique_ptr<herd::testing::TestPki> PlacesTest::pki_;

TEST_F(PlacesTest, PassesAJsonAnswerOnByteForByte) {
  std::string sample = read_file(fs::path(HERD_SHARED_DIR) / "places-samples/bank-3-results.json");
  ASSERT_FALSE(sample.empty());
  CannedServer server(answering(http_answer(200, sample)));
  EXPECT_EQ(nearby(url_of(server)), sample);
}

TEST_F(PlacesTest, AsksWithLocationRadiusAndEncodedKey) {
  CannedServer server(answering(http_answer(200, "{}")));
  nearby(url_of(server));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  std::string expected_line = std::string("GET ") + kPath +
                              "?location=34.068930,-118.445127&radius=10000&key=" + kEncodedKey +
                              " HTTP/1.1\r\n";
  EXPECT_EQ(requests[0].substr(0, expected_line.size()), expected_line);
  EXPECT_NE(requests[0].find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << requests[0];
}

TEST_F(PlacesTest, AppendsToAQueryTheUrlAlreadyHas) {
  CannedServer server(answering(http_answer(200, "{}")));
  nearby(url_of(server) + "?language=en");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  std::string expected_line =
      std::string("GET ") + kPath +
      "?language=en&location=34.068930,-118.445127&radius=10000&key=" + kEncodedKey +
      " HTTP/1.1\r\n";
  EXPECT_EQ(requests[0].substr(0, expected_line.size()), expected_line);
}

TEST_F(PlacesTest, PassesOnGooglesOwnFailureStatuses) {
  std::string denied =
      "{\n   \"error_message\" : \"The provided API key is invalid.\",\n"
      "   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : "
      "\"REQUEST_DENIED\"\n}\n";
  CannedServer server(answering(http_answer(200, denied)));
  EXPECT_EQ(nearby(url_of(server)), denied);
}

TEST_F(PlacesTest, KeepsTheConnectionAliveBetweenRequests) {
  CannedServer server(answering(http_answer(200, "{\"status\" : \"OK\"}")));
  auto http = std::make_shared<HttpClient>(io_.get_executor(), "", 3000ms);
  GoogleLegacySource source({http, url_of(server), kKey, *log_});
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{\"status\" : \"OK\"}");
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{\"status\" : \"OK\"}");
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.accepts(), 1);
}

TEST_F(PlacesTest, RetriesOnceWhenAKeptConnectionWasClosed) {
  CannedServerOptions options = answering(http_answer(200, "{\"status\" : \"OK\"}"));
  options.close_after_answer = true;
  CannedServer server(options);
  auto http = std::make_shared<HttpClient>(io_.get_executor(), "", 3000ms);
  GoogleLegacySource source({http, url_of(server), kKey, *log_});
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{\"status\" : \"OK\"}");
  ASSERT_TRUE(server.wait_closed(1));  // the kept connection is stale for sure
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{\"status\" : \"OK\"}");
  EXPECT_EQ(server.accepts(), 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(PlacesTest, AnHttpErrorStatusIsAnUnknownError) {
  CannedServer server(answering(http_answer(500, "{\"status\" : \"OK\"}")));
  expect_unknown_error(nearby(url_of(server)), "places source answered HTTP 500");
}

TEST_F(PlacesTest, ABodyThatIsNotJsonIsAnUnknownError) {
  CannedServer server(answering(http_answer(200, "<html>busy</html>", "text/html")));
  expect_unknown_error(nearby(url_of(server)), "not JSON");
}

TEST_F(PlacesTest, JsonThatIsNotAnObjectIsAnUnknownError) {
  CannedServer server(answering(http_answer(200, "[1, 2]")));
  expect_unknown_error(nearby(url_of(server)), "not JSON");
}

TEST_F(PlacesTest, ASilentServerTimesOut) {
  CannedServerOptions options;
  options.never_answer = true;
  CannedServer server(options);
  auto start = std::chrono::steady_clock::now();
  std::string body = nearby(url_of(server), "", 300ms);
  expect_unknown_error(body, "timed out after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // it answered at all
  EXPECT_EQ(server.requests().size(), 1u);                  // and did not ask twice
}

TEST_F(PlacesTest, LogsTheRequestAndTheFailureWithoutTheKey) {
  CannedServer server(answering(http_answer(503, "{}")));
  nearby(url_of(server));
  log_->flush();
  std::string text;
  for (const auto& entry : fs::recursive_directory_iterator(log_dir_)) {
    text += read_file(entry.path());
  }
  EXPECT_NE(text.find("places GET " + url_of(server) +
                      "?location=34.068930,-118.445127&radius=10000&key=REDACTED"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("places source answered HTTP 503"), std::string::npos) << text;
}

TEST_F(PlacesTest, ARefusedConnectionIsAnUnknownError) {
  std::uint16_t port = herd::testing::unused_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + kPath;
  expect_unknown_error(nearby(url), "connect to 127.0.0.1:" + std::to_string(port) + " failed: ");
}

TEST_F(PlacesTest, AnOversizedAnswerIsRefused) {
  CannedServer server(answering("HTTP/1.1 200 OK\r\nContent-Length: 9000000\r\n\r\n{"));
  expect_unknown_error(nearby(url_of(server)), "larger than");
}

TEST_F(PlacesTest, TlsWithTheTestCaWorks) {
  CannedServer server(tls_options(http_answer(200, "{\"status\" : \"OK\"}")));
  EXPECT_EQ(nearby(url_of(server, "https"), ca()), "{\"status\" : \"OK\"}");
  EXPECT_EQ(nearby(url_of(server, "https", "localhost"), ca()), "{\"status\" : \"OK\"}");
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(PlacesTest, TlsKeepsTheConnectionAlive) {
  CannedServer server(tls_options(http_answer(200, "{}")));
  auto http = std::make_shared<HttpClient>(io_.get_executor(), ca(), 3000ms);
  GoogleLegacySource source({http, url_of(server, "https"), kKey, *log_});
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{}");
  EXPECT_EQ(run(io_, source.nearby(ucla())), "{}");
  EXPECT_EQ(server.accepts(), 1);
}

TEST_F(PlacesTest, TlsWithoutTheTestCaFailsVerification) {
  CannedServer server(tls_options(http_answer(200, "{}")));
  expect_unknown_error(nearby(url_of(server, "https")), "certificate verify failed");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(PlacesTest, TlsForAnotherNameFailsVerification) {
  CannedServerOptions options = tls_options(http_answer(200, "{}"));
  options.cert = pki_->other_cert;
  options.key = pki_->other_key;
  CannedServer server(options);
  expect_unknown_error(nearby(url_of(server, "https"), ca()), "IP address mismatch");
  expect_unknown_error(nearby(url_of(server, "https", "localhost"), ca()), "hostname mismatch");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(PlacesTest, ManyRequestsAtOnceEachGetTheirAnswer) {
  CannedServer server(tls_options(http_answer(200, "{\"status\" : \"OK\"}")));
  auto http = std::make_shared<HttpClient>(io_.get_executor(), ca(), 3000ms);
  GoogleLegacySource source({http, url_of(server, "https"), kKey, *log_});
  std::vector<std::future<std::string>> answers;
  answers.reserve(8);
  for (int i = 0; i < 8; ++i) {
    answers.push_back(asio::co_spawn(io_, source.nearby(ucla()), asio::use_future));
  }
  io_.run();
  for (auto& answer : answers) EXPECT_EQ(answer.get(), "{\"status\" : \"OK\"}");
  EXPECT_EQ(server.requests().size(), 8u);
}

TEST_F(PlacesTest, ServesRequestsFromAnEventLoopOnSeveralThreads) {
  CannedServer server(tls_options(http_answer(200, "{}")));
  auto http = std::make_shared<HttpClient>(io_.get_executor(), ca(), 3000ms);
  GoogleLegacySource source({http, url_of(server, "https"), kKey, *log_});
  // Each chain asks three times in turn, so connections go back to the pool and out again
  // while other threads do the same.
  auto chain = [&]() -> asio::awaitable<int> {
    int ok = 0;
    for (int i = 0; i < 3; ++i) ok += co_await source.nearby(ucla()) == "{}";
    co_return ok;
  };
  std::vector<std::future<int>> chains;
  chains.reserve(6);
  for (int i = 0; i < 6; ++i) chains.push_back(asio::co_spawn(io_, chain(), asio::use_future));
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io_.run(); });
  for (auto& thread : threads) thread.join();
  for (auto& done : chains) EXPECT_EQ(done.get(), 3);
  EXPECT_EQ(server.requests().size(), 18u);
  EXPECT_LE(server.accepts(), 6);  // later requests of a chain reuse a kept connection
}

TEST(HttpClientTest, AMissingCaFileIsAnError) {
  asio::io_context io;
  EXPECT_THROW(HttpClient(io.get_executor(), "/nonexistent/ca.pem", 1000ms), HttpError);
}

TEST(HttpClientTest, ABadUrlIsAnErrorThatHidesTheQuery) {
  asio::io_context io;
  HttpClient http(io.get_executor(), "", 1000ms);
  for (std::string url : {"ftp://example.com/?key=hidden", "http://:80/?key=hidden",
                          "http://example.com:99999/?key=hidden", "example.com/?key=hidden"}) {
    try {
      run(io, http.request(get_request(url)));
      ADD_FAILURE() << url << " was accepted";
    } catch (const HttpError& e) {
      EXPECT_EQ(std::string(e.what()).find("hidden"), std::string::npos) << e.what();
    }
  }
}

TEST(HttpClientTest, AnyStatusIsAResponse) {
  CannedServer server(answering(http_answer(404, "gone", "text/plain")));
  asio::io_context io;
  HttpClient http(io.get_executor(), "", 3000ms);
  HttpResponse response = run(
      io,
      http.request(get_request("http://127.0.0.1:" + std::to_string(server.port()) + "/x?y=1")));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "gone");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].substr(0, 16), "GET /x?y=1 HTTP/");
}

}  // namespace
}  // namespace herd::places
