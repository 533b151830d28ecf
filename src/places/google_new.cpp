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

GoogleNewSource::GoogleNewSource(std::shared_ptr<HttpClient> http, std::string url,
                                 std::string api_key, log::EventLog& log)
    : http_(std::move(http)), url_(std::move(url)), api_key_(std::move(api_key)), log_(log) {}

boost::asio::awaitable<std::string> GoogleNewSource::nearby(PlacesQuery query) {
  const std::string shown_url = log::redact_url(url_);
  std::string failure;
  try {
    auto body = search_nearby_body(query);
    if (!body) {
      co_return protocol::places_error_body("INVALID_REQUEST",
                                            "location or radius is not a decimal number");
    }
    log_.event("places POST " + shown_url + " " + *body);

    HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.headers = {{"Content-Type", "application/json"},
                       {"X-Goog-Api-Key", api_key_},
                       {"X-Goog-FieldMask", std::string(kNewApiFieldMask)}};
    request.body = std::move(*body);
    HttpResponse response = co_await http_->request(std::move(request));
    if (response.status != 200) {
      std::string legacy = new_error_to_legacy(response.status, response.body);
      log_failure(log_,
                  "places POST " + shown_url + " answered HTTP " + std::to_string(response.status));
      co_return without_secret(std::move(legacy), api_key_);
    }
    if (auto legacy = new_to_legacy(response.body)) co_return std::move(*legacy);
    failure = "places source answered with a body that is not a Nearby Search (New) answer";
  } catch (const std::exception& e) {
    failure = e.what();  // HttpError included: it says what failed, and if it timed out
  } catch (...) {
    failure = "places request failed";
  }
  co_return unknown_error(log_, "places POST " + shown_url, failure, api_key_);
}

}  // namespace herd::places
