// The offline places source: the file format, the spatial search against a brute-force scan
// of the real GeoNames data, and the body's exact bytes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "places/offline/nearby_search.hpp"
#include "places/offline/offline_source.hpp"
#include "places/offline/place_file_builder.hpp"
#include "places/offline/place_index.hpp"

namespace herd::places::offline {
namespace {

namespace fs = std::filesystem;

const PlaceIndex& real_index() {
  static const PlaceIndex index(HERD_PLACES_DATA);
  return index;
}

std::vector<NearbyPlace> brute_force(const PlaceIndex& index, Point centre, double radius) {
  std::vector<NearbyPlace> all;
  for (const auto& record : index.records()) {
    const double metres = great_circle_metres(centre, point_of(record));
    if (metres <= radius) all.push_back({&record, metres});
  }
  std::sort(all.begin(), all.end(), ranks_before);
  if (all.size() > kMostPlaces) all.resize(kMostPlaces);
  return all;
}

// Compares the search with the scan; returns how many places the scan found, so that a
// caller can check its case was not vacuous.
std::size_t expect_same_as_scan(Point centre, double radius) {
  const auto expected = brute_force(real_index(), centre, radius);
  const auto actual = nearby_places(real_index(), centre, radius);
  EXPECT_EQ(actual.size(), expected.size())
      << "at " << centre.latitude << "," << centre.longitude << " within " << radius;
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    EXPECT_EQ(actual[i].record, expected[i].record)
        << "place " << i << " at " << centre.latitude << "," << centre.longitude << " within "
        << radius << ": " << real_index().name(*actual[i].record) << " instead of "
        << real_index().name(*expected[i].record);
    EXPECT_EQ(actual[i].metres, expected[i].metres);
  }
  return expected.size();
}

std::vector<std::string> names(const std::vector<NearbyPlace>& places) {
  std::vector<std::string> out;
  out.reserve(places.size());
  for (const auto& place : places) out.emplace_back(real_index().name(*place.record));
  return out;
}

TEST(OfflineSearch, DistancesAreGreatCircle) {
  EXPECT_NEAR(great_circle_metres({0, 0}, {1, 0}), 111'195.08, 0.01);
  EXPECT_NEAR(great_circle_metres({0, 179.5}, {0, -179.5}), 111'195.08, 0.01);
  EXPECT_NEAR(great_circle_metres({89.5, 0}, {89.5, 180}), 111'195.08, 0.01);
  // Antipodes: haversine loses a little precision there, well under a metre.
  EXPECT_NEAR(great_circle_metres({10, 20}, {-10, -160}), kEarthRadiusMetres * std::numbers::pi, 1);
}

TEST(OfflineSearch, EqualsScanAroundRandomPlaces) {
  std::mt19937 random(131);
  const auto records = real_index().records();
  std::uniform_int_distribution<std::size_t> pick(0, records.size() - 1);
  std::uniform_real_distribution<double> jitter(-0.3, 0.3);
  std::uniform_real_distribution<double> radius(0.1, 50'000);
  std::size_t found = 0;
  for (int i = 0; i < 300; ++i) {
    const Point place = point_of(records[pick(random)]);
    const Point centre{std::clamp(place.latitude + jitter(random), -90.0, 90.0),
                       std::remainder(place.longitude + jitter(random), 360.0)};
    found += expect_same_as_scan(centre, radius(random));
  }
  EXPECT_GT(found, 1000u);
}

TEST(OfflineSearch, EqualsScanInDenseRegions) {
  for (const Point centre : {Point{35.68, 139.76}, Point{28.61, 77.21}, Point{-6.9, 107.6},
                             Point{45.46, 9.19}, Point{19.43, -99.13}}) {
    EXPECT_EQ(expect_same_as_scan(centre, 50'000), kMostPlaces);
    expect_same_as_scan(centre, 1'000);
    expect_same_as_scan(centre, 5'000);
  }
}

TEST(OfflineSearch, EqualsScanNearThePoles) {
  EXPECT_GT(expect_same_as_scan({89.5, 0}, 1'500'000), 0u);  // round the North Pole
  EXPECT_GT(expect_same_as_scan({-89, 0}, 1'500'000), 0u);   // McMurdo, over the South Pole
  EXPECT_GT(expect_same_as_scan({78.2, 15.6}, 50'000), 0u);  // Longyearbyen
  EXPECT_EQ(expect_same_as_scan({90, 0}, 50'000), 0u);       // the pole itself
  EXPECT_GT(expect_same_as_scan({90, 0}, 2'000'000), 0u);
  EXPECT_EQ(expect_same_as_scan({-90, 123}, 1'000'000), 0u);
}

TEST(OfflineSearch, EqualsScanAcrossTheAntimeridian) {
  // Beringovskiy (179.35) and Egvekinot (-179.12) lie on either side.
  for (const Point centre :
       {Point{64.7, 179.99}, Point{64.7, -179.99}, Point{64.7, 180}, Point{64.7, -180}}) {
    const auto places = nearby_places(real_index(), centre, 250'000);
    const auto east = std::count_if(places.begin(), places.end(),
                                    [](const auto& p) { return p.record->longitude < 0; });
    EXPECT_GT(east, 0);
    EXPECT_LT(static_cast<std::size_t>(east), places.size());
    expect_same_as_scan(centre, 250'000);
  }
  EXPECT_GT(expect_same_as_scan({-16.8, 179.99}, 150'000), 0u);  // Taveuni, Fiji
  EXPECT_GT(expect_same_as_scan({-16.8, -179.99}, 150'000), 0u);
}

TEST(OfflineSearch, MostProminentFirstAtMostTwenty) {
  const Point tokyo{35.68, 139.76};
  const auto places = nearby_places(real_index(), tokyo, 50'000);
  ASSERT_EQ(places.size(), kMostPlaces);
  EXPECT_EQ(real_index().name(*places.front().record), "Tokyo");
  for (std::size_t i = 1; i < places.size(); ++i) {
    const auto& before = *places[i - 1].record;
    const auto& after = *places[i].record;
    EXPECT_GE(before.population, after.population);
    if (before.population == after.population) {
      EXPECT_LE(places[i - 1].metres, places[i].metres);
    }
  }
  for (const auto& place : places) EXPECT_LE(place.metres, 50'000);
}

TEST(OfflineSearch, WestwoodAndCenturyCityNearUcla) {
  const auto places = nearby_places(real_index(), {34.068930, -118.445127}, 3'000);
  EXPECT_EQ(names(places), (std::vector<std::string>{"Century City", "Westwood"}));
}

TEST(OfflineSource, AnswersUclaInGoogleShape) {
  OfflinePlacesSource source(PlaceIndex(HERD_PLACES_DATA));
  const std::string body = source.answer({"34.068930", "-118.445127", "3000"});
  EXPECT_NE(body.find("\"name\" : \"Westwood\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"place_id\" : \"geonames:5408522\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"types\" : [ \"neighborhood\", \"political\" ]"), std::string::npos);
  EXPECT_NE(body.find("\"vicinity\" : \"CA, US\""), std::string::npos);
  EXPECT_NE(body.find("\"status\" : \"OK\"\n}\n"), std::string::npos);
}

TEST(OfflineSource, ZeroResultsInTheOcean) {
  OfflinePlacesSource source(PlaceIndex(HERD_PLACES_DATA));
  EXPECT_EQ(source.answer({"0", "-140", "50000"}),
            "{\n"
            "   \"html_attributions\" : [\n"
            "      \"Place data from \\u003ca href=\\\"https://www.geonames.org/\\\"\\u003eGeoNames"
            "\\u003c/a\\u003e, CC BY 4.0\"\n"
            "   ],\n"
            "   \"results\" : [],\n"
            "   \"status\" : \"ZERO_RESULTS\"\n"
            "}\n");
}

// ---- A small index built from hand-written GeoNames lines ----

std::string geonames_line(const std::string& id, const std::string& name, const std::string& lat,
                          const std::string& lng, const std::string& feature_class,
                          const std::string& code, const std::string& country,
                          const std::string& admin1, const std::string& population) {
  return id + "\t" + name + "\t" + name + "\t\t" + lat + "\t" + lng + "\t" + feature_class + "\t" +
         code + "\t" + country + "\t\t" + admin1 + "\t\t\t\t" + population +
         "\t\t10\tEtc/UTC\t2024-01-01\n";
}

// A function-local static, so a throw while building it happens inside a test.
const std::string& small_text() {
  static const std::string text =
      geonames_line("100", "Alphaville", "10.0", "20.0", "P", "PPL", "US", "CA", "8000") +
      geonames_line("101", "Beta <Quarter>", "10.01", "20.01", "P", "PPLX", "FR", "11", "0") +
      geonames_line("102", "Gamma", "10.02", "20.0", "P", "PPLA", "GB", "ENG", "8000") +
      geonames_line("103", "Far", "12", "20", "P", "PPL", "US", "CA", "900000") +
      geonames_line("104", "Not a place", "10", "20", "A", "ADM1", "US", "CA", "900000");
  return text;
}

class TempFile {
 public:
  explicit TempFile(const std::string& bytes)
      : path_(fs::temp_directory_path() / ("offline_places_test." + std::to_string(::getpid()) +
                                           "." + std::to_string(counter_++) + ".dat")) {
    std::ofstream(path_, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  }
  ~TempFile() { fs::remove(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(OfflineSource, SmallIndexBodyIsExact) {
  const TempFile file(build_place_file(small_text()));
  OfflinePlacesSource source{PlaceIndex(file.path())};
  const std::string expected = R"({
   "html_attributions" : [
      "Place data from \u003ca href=\"https://www.geonames.org/\"\u003eGeoNames\u003c/a\u003e, CC BY 4.0"
   ],
   "results" : [
      {
         "geometry" : {
            "location" : {
               "lat" : 10,
               "lng" : 20
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 10.0089932,
                  "lng" : 20.0091319
               },
               "southwest" : {
                  "lat" : 9.991006799999999,
                  "lng" : 19.9908681
               }
            }
         },
         "icon" : "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/geocode-71.png",
         "name" : "Alphaville",
         "place_id" : "geonames:100",
         "types" : [ "locality", "political" ],
         "vicinity" : "CA, US"
      },
      {
         "geometry" : {
            "location" : {
               "lat" : 10.02,
               "lng" : 20
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 10.0289932,
                  "lng" : 20.0091325
               },
               "southwest" : {
                  "lat" : 10.0110068,
                  "lng" : 19.9908675
               }
            }
         },
         "icon" : "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/geocode-71.png",
         "name" : "Gamma",
         "place_id" : "geonames:102",
         "types" : [ "locality", "political" ],
         "vicinity" : "ENG, GB"
      },
      {
         "geometry" : {
            "location" : {
               "lat" : 10.01,
               "lng" : 20.01
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 10.0144966,
                  "lng" : 20.0145661
               },
               "southwest" : {
                  "lat" : 10.0055034,
                  "lng" : 20.0054339
               }
            }
         },
         "icon" : "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/geocode-71.png",
         "name" : "Beta \u003cQuarter\u003e",
         "place_id" : "geonames:101",
         "types" : [ "neighborhood", "political" ],
         "vicinity" : "FR"
      }
   ],
   "status" : "OK"
}
)";
  EXPECT_EQ(source.answer({"10.000000", "20.000000", "5000"}), expected);
  // Alphaville and Gamma are both about 1,560 m from Beta.
  const std::string beta_only = source.answer({"10.01", "20.01", "1500"});
  EXPECT_NE(beta_only.find("geonames:101"), std::string::npos);
  EXPECT_EQ(beta_only.find("geonames:100"), std::string::npos);
}

TEST(OfflineSource, NearbyAnswersAsAnswerDoes) {
  const TempFile file(build_place_file(small_text()));
  OfflinePlacesSource source{PlaceIndex(file.path())};
  boost::asio::io_context io;
  const PlacesQuery query{"10", "20", "3000"};
  auto body = boost::asio::co_spawn(io, source.nearby(query), boost::asio::use_future);
  io.run();
  EXPECT_EQ(body.get(), source.answer(query));
}

TEST(OfflineSource, UnreadableQueryIsInvalidRequest) {
  const TempFile file(build_place_file(small_text()));
  OfflinePlacesSource source{PlaceIndex(file.path())};
  EXPECT_EQ(source.answer({"91", "20", "3000"}),
            "{\n"
            "   \"error_message\" : \"offline places source: bad latitude '91'\",\n"
            "   \"html_attributions\" : [],\n"
            "   \"results\" : [],\n"
            "   \"status\" : \"INVALID_REQUEST\"\n"
            "}\n");
  EXPECT_NE(source.answer({"10", "x", "3000"}).find("bad longitude 'x'"), std::string::npos);
  EXPECT_NE(source.answer({"10", "20", "-1"}).find("bad radius '-1'"), std::string::npos);
  EXPECT_NE(source.answer({"10", "20", "inf"}).find("bad radius 'inf'"), std::string::npos);
  EXPECT_NE(source.answer({"nan", "20", "1"}).find("bad latitude 'nan'"), std::string::npos);
}

TEST(OfflineSource, RadiusWiderThanTheEarthFindsEverything) {
  const TempFile file(build_place_file(small_text()));
  const PlaceIndex index(file.path());
  EXPECT_EQ(nearby_places(index, {-10, -160}, 1e12).size(), 4u);
  // Far is 2 degrees nearer than the antipode of the others.
  EXPECT_EQ(nearby_places(index, {-10, -160}, 19'900'000).size(), 1u);
}

TEST(OfflineBuilder, NamesTheBadLine) {
  const std::string text = small_text() + "105\tBroken\tBroken\n";
  try {
    build_place_file(text);
    FAIL() << "a short line was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "line 6: expected 19 tab-separated fields");
  }
  EXPECT_THROW(build_place_file(geonames_line("1", "X", "95", "0", "P", "PPL", "US", "", "0")),
               std::runtime_error);
}

// The message open_offline_source throws for `bytes`.
std::string refusal(const std::string& bytes) {
  const TempFile file(bytes);
  try {
    open_offline_source(file.path());
  } catch (const std::runtime_error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(file.path().string()), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "the file was accepted";
  return {};
}

TEST(OfflineIndex, RefusesBadFilesNamingThem) {
  const std::string good = build_place_file(small_text());
  EXPECT_EQ(PlaceIndex(TempFile(good).path()).records().size(), 4u);

  EXPECT_NE(refusal(good.substr(0, good.size() - 1)).find("truncated"), std::string::npos);
  EXPECT_NE(refusal(good.substr(0, 40)).find("too short"), std::string::npos);
  EXPECT_NE(refusal("").find("too short"), std::string::npos);

  std::string magic = good;
  magic[0] = 'X';
  EXPECT_NE(refusal(magic).find("bad magic"), std::string::npos);

  std::string version = good;
  version[8] = 9;
  EXPECT_NE(refusal(version).find("format version 9"), std::string::npos);

  // A record moved out of its cell: its latitude's first byte changed.
  FileHeader header;
  std::memcpy(&header, good.data(), sizeof header);
  std::string moved = good;
  moved[header.records_offset + 3] = 0x20;
  EXPECT_NE(refusal(moved).find("out of place"), std::string::npos);

  // A name pointing past the string table.
  std::string name = good;
  name[header.records_offset + offsetof(PlaceRecord, name_offset) + 3] = 0x7f;
  EXPECT_NE(refusal(name).find("corrupt"), std::string::npos);

  const fs::path missing = fs::temp_directory_path() / "offline_places_test.missing.dat";
  try {
    open_offline_source(missing);
    FAIL() << "a missing file was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("No such file"), std::string::npos);
  }
}

}  // namespace
}  // namespace herd::places::offline
