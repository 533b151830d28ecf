#include "places/google_new.hpp"

#include <exception>
#include <utility>

#include "places/new_to_legacy.hpp"
#include "places/source_failure.hpp"
#include "protocol/places_json.hpp"

namespace herd::places {

// As many as Google gives; the server trims to each client's bound.
constexpr int kMaxResultCount = 20;

std::optional<std::string> search_nearby_body(const PlacesQuery& query) {
  auto latitude = json_decimal(query.latitude);
  auto longitude = json_decimal(query.longitude);
  auto radius = json_decimal(query.radius_metres);
  if (!latitude || !longitude || !radius) return std::nullopt;
  return R"({"locationRestriction":{"circle":{"center":{"latitude":)" + *latitude +
         R"(,"longitude":)" + *longitude + R"(},"radius":)" + *radius + R"(}},"maxResultCount":)" +
         std::to_string(kMaxResultCount) + "}";
}

boost::asio::awaitable<std::string> GoogleNewSource::nearby(PlacesQuery query) {
  const std::string shown_url = log::redact_url(endpoint_.url);
  std::string failure;
  try {
    auto body = search_nearby_body(query);
    if (!body) {
      co_return protocol::places_error_body("INVALID_REQUEST",
                                            "location or radius is not a decimal number");
    }
    endpoint_.log.event("places POST " + shown_url + " " + *body);

    HttpRequest request;
    request.method = "POST";
    request.url = endpoint_.url;
    request.headers = {{"Content-Type", "application/json"},
                       {"X-Goog-Api-Key", endpoint_.api_key},
                       {"X-Goog-FieldMask", std::string(kNewApiFieldMask)}};
    request.body = std::move(*body);
    HttpResponse response = co_await endpoint_.http->request(std::move(request));
    if (response.status != 200) {
      std::string legacy = new_error_to_legacy(response.status, response.body);
      log_failure(endpoint_.log,
                  "places POST " + shown_url + " answered HTTP " + std::to_string(response.status));
      co_return without_secret(std::move(legacy), endpoint_.api_key);
    }
    if (auto legacy = new_to_legacy(response.body)) co_return std::move(*legacy);
    failure = "places source answered with a body that is not a Nearby Search (New) answer";
  } catch (const std::exception& e) {
    failure = e.what();  // HttpError included: it says what failed, and if it timed out
  } catch (...) {
    failure = "places request failed";
  }
  co_return unknown_error(endpoint_.log, "places POST " + shown_url, failure, endpoint_.api_key);
}

}  // namespace herd::places
