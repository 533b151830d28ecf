#include "places/offline/offline_source.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "places/offline/nearby_search.hpp"
#include "places/offline/offline_body.hpp"
#include "protocol/places_json.hpp"

namespace herd::places::offline {

namespace {

std::optional<double> parse_decimal(std::string_view text, double limit) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || !(std::fabs(value) <= limit)) {
    return std::nullopt;
  }
  return value;
}

std::string invalid(std::string_view what, std::string_view text) {
  return protocol::places_error_body(
      "INVALID_REQUEST",
      "offline places source: bad " + std::string(what) + " '" + std::string(text) + "'");
}

}  // namespace

boost::asio::awaitable<std::string> OfflinePlacesSource::nearby(PlacesQuery query) {
  co_return answer(query);
}

std::string OfflinePlacesSource::answer(const PlacesQuery& query) const {
  const auto latitude = parse_decimal(query.latitude, 90);
  if (!latitude) return invalid("latitude", query.latitude);
  const auto longitude = parse_decimal(query.longitude, 180);
  if (!longitude) return invalid("longitude", query.longitude);
  const auto radius = parse_decimal(query.radius_metres, std::numeric_limits<double>::max());
  if (!radius || *radius < 0) return invalid("radius", query.radius_metres);
  const auto places = nearby_places(index_, {*latitude, *longitude}, *radius);
  return places_body(index_, places);
}

std::unique_ptr<PlacesSource> open_offline_source(const std::filesystem::path& data_file) {
  return std::make_unique<OfflinePlacesSource>(PlaceIndex(data_file));
}

}  // namespace herd::places::offline
