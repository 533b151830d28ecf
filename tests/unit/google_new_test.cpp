// The google-new places source: the new-to-legacy translation, the error mapping, and the
// request it makes, against a real local HTTP server.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "canned_http_server.hpp"
#include "log/event_log.hpp"
#include "places/google_new.hpp"
#include "places/http_client.hpp"
#include "places/new_to_legacy.hpp"
#include "protocol/places_json.hpp"

namespace herd::places {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using herd::testing::CannedServer;
using herd::testing::CannedServerOptions;
using herd::testing::http_answer;

constexpr const char* kKey = "AIza-new-API-s3cr3t";

// Two places near UCLA, as the new API lays them out: camelCase, nested names, a viewport
// of low/high corners, enum strings for status and price. The second lacks most fields.
constexpr const char* kNewAnswer = R"({
  "places": [
    {
      "id": "ChIJZQ9b2o68woARpsG1UjDnnRw",
      "types": ["cafe", "coffee_shop", "food", "point_of_interest", "establishment"],
      "formattedAddress": "308 Westwood Plaza, Los Angeles, CA 90095, USA",
      "location": {"latitude": 34.0707363, "longitude": -118.4441532},
      "viewport": {
        "low": {"latitude": 34.0693873197085, "longitude": -118.4455021802915},
        "high": {"latitude": 34.0720852802915, "longitude": -118.4428042197085}
      },
      "rating": 4.3,
      "businessStatus": "OPERATIONAL",
      "priceLevel": "PRICE_LEVEL_INEXPENSIVE",
      "userRatingCount": 412,
      "iconMaskBaseUri": "https://maps.gstatic.com/mapfiles/place_api/icons/v2/cafe_pinlet",
      "iconBackgroundColor": "#FF9E67",
      "displayName": {"text": "Café <Kerckhoff>", "languageCode": "en"},
      "shortFormattedAddress": "308 Westwood Plaza, Los Angeles",
      "plusCode": {"globalCode": "8553349V+78", "compoundCode": "349V+78 Los Angeles, CA, USA"},
      "currentOpeningHours": {"openNow": false, "weekdayDescriptions": ["Monday: Closed"]}
    },
    {
      "id": "ChIJ-seconds",
      "location": {"latitude": 34, "longitude": -118.5},
      "displayName": {"text": "Bare"},
      "formattedAddress": "Somewhere, Los Angeles, CA, USA",
      "priceLevel": "PRICE_LEVEL_UNSPECIFIED",
      "businessStatus": "BUSINESS_STATUS_UNSPECIFIED"
    }
  ]
}
)";

// The same, in the legacy schema and Google's legacy layout, written out by hand.
constexpr const char* kLegacyAnswer = R"({
   "html_attributions" : [],
   "results" : [
      {
         "business_status" : "OPERATIONAL",
         "geometry" : {
            "location" : {
               "lat" : 34.0707363,
               "lng" : -118.4441532
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 34.0720852802915,
                  "lng" : -118.4428042197085
               },
               "southwest" : {
                  "lat" : 34.0693873197085,
                  "lng" : -118.4455021802915
               }
            }
         },
         "icon_background_color" : "#FF9E67",
         "icon_mask_base_uri" : "https://maps.gstatic.com/mapfiles/place_api/icons/v2/cafe_pinlet",
         "name" : "Café \u003cKerckhoff\u003e",
         "opening_hours" : {
            "open_now" : false
         },
         "place_id" : "ChIJZQ9b2o68woARpsG1UjDnnRw",
         "plus_code" : {
            "compound_code" : "349V+78 Los Angeles, CA, USA",
            "global_code" : "8553349V+78"
         },
         "price_level" : 1,
         "rating" : 4.3,
         "types" : [ "cafe", "coffee_shop", "food", "point_of_interest", "establishment" ],
         "user_ratings_total" : 412,
         "vicinity" : "308 Westwood Plaza, Los Angeles"
      },
      {
         "geometry" : {
            "location" : {
               "lat" : 34,
               "lng" : -118.5
            }
         },
         "name" : "Bare",
         "place_id" : "ChIJ-seconds",
         "vicinity" : "Somewhere, Los Angeles, CA, USA"
      }
   ],
   "status" : "OK"
}
)";

constexpr const char* kZeroResults = R"({
   "html_attributions" : [],
   "results" : [],
   "status" : "ZERO_RESULTS"
}
)";

TEST(NewToLegacy, TranslatesPlacesIntoTheLegacySchemaAndLayout) {
  auto legacy = new_to_legacy(kNewAnswer);
  ASSERT_TRUE(legacy);
  EXPECT_EQ(*legacy, kLegacyAnswer);
}

TEST(NewToLegacy, TranslatedBodyTrimsLikeALegacyOne) {
  auto trimmed = protocol::trim_results(*new_to_legacy(kNewAnswer), 1);
  ASSERT_TRUE(trimmed);
  EXPECT_EQ(trimmed->find("ChIJ-seconds"), std::string::npos);
  EXPECT_NE(trimmed->find("\"status\" : \"OK\""), std::string::npos);
}

TEST(NewToLegacy, NoPlacesIsZeroResults) {
  EXPECT_EQ(new_to_legacy("{}"), kZeroResults);
  EXPECT_EQ(new_to_legacy(R"({"places": []})"), kZeroResults);
}

TEST(NewToLegacy, PriceLevelsMapToTheLegacyScale) {
  const char* levels[] = {"PRICE_LEVEL_FREE", "PRICE_LEVEL_INEXPENSIVE", "PRICE_LEVEL_MODERATE",
                          "PRICE_LEVEL_EXPENSIVE", "PRICE_LEVEL_VERY_EXPENSIVE"};
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(levels[i]);
    auto legacy =
        new_to_legacy(std::string(R"({"places":[{"id":"x","priceLevel":")") + levels[i] + "\"}]}");
    ASSERT_TRUE(legacy);
    EXPECT_NE(legacy->find("\"price_level\" : " + std::to_string(i) + "\n"), std::string::npos)
        << *legacy;
  }
}

TEST(NewToLegacy, RefusesWhatIsNotANewApiAnswer) {
  EXPECT_FALSE(new_to_legacy("not json"));
  EXPECT_FALSE(new_to_legacy("[]"));
  EXPECT_FALSE(new_to_legacy(R"({"places": {}})"));
  EXPECT_FALSE(new_to_legacy(R"({"places": [1]})"));
}

TEST(NewToLegacy, ErrorsMapToLegacyStatusesWithGooglesMessage) {
  const std::string denied = R"({"error": {"code": 403, "message": "Places API (New) has not )"
                             R"(been used in project 1 before or it is disabled.", )"
                             R"("status": "PERMISSION_DENIED"}})";
  EXPECT_EQ(new_error_to_legacy(403, denied),
            "{\n   \"error_message\" : \"Places API (New) has not been used in project 1 before "
            "or it is disabled.\",\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
            "   \"status\" : \"REQUEST_DENIED\"\n}\n");
  const std::string invalid =
      R"({"error": {"code": 400, "message": "Invalid radius.", "status": "INVALID_ARGUMENT"}})";
  EXPECT_EQ(new_error_to_legacy(400, invalid),
            protocol::places_error_body("INVALID_REQUEST", "Invalid radius."));
  const std::string quota =
      R"({"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}})";
  EXPECT_EQ(new_error_to_legacy(429, quota),
            protocol::places_error_body("OVER_QUERY_LIMIT", "Quota exceeded."));
  const std::string internal =
      R"({"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}})";
  EXPECT_EQ(new_error_to_legacy(500, internal),
            protocol::places_error_body("UNKNOWN_ERROR", "Internal error."));
  EXPECT_EQ(new_error_to_legacy(503, "<html>Service Unavailable</html>"),
            protocol::places_error_body("UNKNOWN_ERROR", "places source answered HTTP 503"));
  EXPECT_EQ(new_error_to_legacy(403, "{}"),
            protocol::places_error_body("REQUEST_DENIED", "places source answered HTTP 403"));
}

TEST(JsonDecimal, NormalisesWhatAClientMayWrite) {
  EXPECT_EQ(json_decimal("+05.5"), "5.5");
  EXPECT_EQ(json_decimal("-05.50"), "-5.50");
  EXPECT_EQ(json_decimal("00"), "0");
  EXPECT_EQ(json_decimal("-000.001"), "-0.001");
  EXPECT_EQ(json_decimal("34.068930"), "34.068930");
  EXPECT_EQ(json_decimal("10000"), "10000");
  EXPECT_EQ(json_decimal("0.1"), "0.1");
  EXPECT_FALSE(json_decimal(""));
  EXPECT_FALSE(json_decimal("+"));
  EXPECT_FALSE(json_decimal("1."));
  EXPECT_FALSE(json_decimal(".5"));
  EXPECT_FALSE(json_decimal("1e5"));
  EXPECT_FALSE(json_decimal("--1"));
}

TEST(SearchNearbyBody, CarriesTheQueryExactly) {
  EXPECT_EQ(search_nearby_body({"05.5", "-118.445127", "12345.6789"}),
            R"({"locationRestriction":{"circle":{"center":{"latitude":5.5,)"
            R"("longitude":-118.445127},"radius":12345.6789}},"maxResultCount":20})");
  EXPECT_FALSE(search_nearby_body({"34", "-118", "ten"}));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class GoogleNewSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_dir_ = fs::temp_directory_path() /
               ("herd-google-new-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(log_dir_);
    config::LogConfig config;
    config.dir = log_dir_.string();
    log_ = std::make_unique<log::EventLog>(config, "places");
  }

  void TearDown() override {
    log_->flush();
    log_.reset();
    for (const auto& entry : fs::recursive_directory_iterator(log_dir_)) {
      EXPECT_EQ(read_file(entry.path()).find(kKey), std::string::npos) << entry.path();
    }
    fs::remove_all(log_dir_);
  }

  std::string nearby(const std::string& url,
                     PlacesQuery query = {"34.068930", "-118.445127", "10000"}) {
    auto http = std::make_shared<HttpClient>(io_.get_executor(), "", 3000ms);
    GoogleNewSource source({http, url, kKey, *log_});
    auto result = asio::co_spawn(io_, source.nearby(std::move(query)), asio::use_future);
    io_.restart();
    io_.run();
    return result.get();
  }

  static std::string url_of(const CannedServer& server) {
    return "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/places:searchNearby";
  }

  static CannedServerOptions answering(int status, const std::string& body) {
    CannedServerOptions options;
    options.answer = http_answer(status, body);
    return options;
  }

  asio::io_context io_;
  fs::path log_dir_;
  std::unique_ptr<log::EventLog> log_;
};

TEST_F(GoogleNewSourceTest, PostsTheQueryWithKeyAndFieldMask) {
  CannedServer server(answering(200, kNewAnswer));
  EXPECT_EQ(nearby(url_of(server), {"05.5", "-118.445127", "0.1"}), kLegacyAnswer);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string& request = requests[0];
  EXPECT_EQ(request.rfind("POST /v1/places:searchNearby HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nX-Goog-Api-Key: " + std::string(kKey) + "\r\n"), std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nX-Goog-FieldMask: places.businessStatus,"
                         "places.currentOpeningHours,places.displayName,places.formattedAddress,"
                         "places.iconBackgroundColor,places.iconMaskBaseUri,places.id,"
                         "places.location,places.plusCode,places.priceLevel,places.rating,"
                         "places.shortFormattedAddress,places.types,places.userRatingCount,"
                         "places.viewport\r\n"),
            std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << request;
  const std::string body =
      R"({"locationRestriction":{"circle":{"center":{"latitude":5.5,"longitude":-118.445127},)"
      R"("radius":0.1}},"maxResultCount":20})";
  EXPECT_NE(request.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_EQ(request.substr(request.find("\r\n\r\n") + 4), body);
  EXPECT_EQ(request.find("key="), std::string::npos) << request;
}

TEST_F(GoogleNewSourceTest, AnHttpErrorBecomesItsLegacyStatus) {
  CannedServer server(answering(
      403, R"({"error":{"code":403,"message":"API key not valid. Please pass a valid API key.",)"
           R"("status":"PERMISSION_DENIED"}})"));
  EXPECT_EQ(nearby(url_of(server)),
            protocol::places_error_body("REQUEST_DENIED",
                                        "API key not valid. Please pass a valid API key."));
}

TEST_F(GoogleNewSourceTest, GooglesMessageNeverEchoesTheKey) {
  CannedServer server(
      answering(400, std::string(R"({"error":{"code":400,"message":"bad key )") + kKey + R"("}})"));
  std::string body = nearby(url_of(server));
  EXPECT_EQ(body, protocol::places_error_body("INVALID_REQUEST", "bad key REDACTED"));
}

TEST_F(GoogleNewSourceTest, AnAnswerThatIsNotJsonIsUnknownError) {
  CannedServer server(answering(200, "<html>hello</html>"));
  EXPECT_EQ(nearby(url_of(server)),
            protocol::places_error_body("UNKNOWN_ERROR",
                                        "places source answered with a body that is not a "
                                        "Nearby Search (New) answer"));
}

TEST_F(GoogleNewSourceTest, NoConnectionIsUnknownError) {
  std::string url = "http://127.0.0.1:" + std::to_string(herd::testing::unused_port()) + "/v1";
  std::string body = nearby(url);
  EXPECT_EQ(body.rfind("{\n   \"error_message\" : \"connect to 127.0.0.1:", 0), 0u) << body;
  EXPECT_NE(body.find("\"status\" : \"UNKNOWN_ERROR\""), std::string::npos) << body;
}

}  // namespace
}  // namespace herd::places
