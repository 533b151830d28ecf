#include "places/new_to_legacy.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "json/styled_writer.hpp"
#include "protocol/places_json.hpp"

namespace herd::places {
namespace {

namespace js = boost::json;

// The new API's price levels, in the order of the legacy 0..4 scale.
constexpr std::array<std::string_view, 5> kPriceLevels = {
    "PRICE_LEVEL_FREE", "PRICE_LEVEL_INEXPENSIVE", "PRICE_LEVEL_MODERATE", "PRICE_LEVEL_EXPENSIVE",
    "PRICE_LEVEL_VERY_EXPENSIVE"};

const js::value* member(const js::object& object, std::string_view key) {
  return object.if_contains(key);
}

const js::object* object_member(const js::object& object, std::string_view key) {
  const js::value* value = member(object, key);
  return value ? value->if_object() : nullptr;
}

const js::string* string_member(const js::object& object, std::string_view key) {
  const js::value* value = member(object, key);
  return value ? value->if_string() : nullptr;
}

bool is_number(const js::value& value) {
  return value.is_double() || value.is_int64() || value.is_uint64();
}

// {"latitude":..,"longitude":..} -> {"lat":..,"lng":..}; nullopt if either is missing.
std::optional<js::object> lat_lng(const js::object* point) {
  if (!point) return std::nullopt;
  const js::value* latitude = member(*point, "latitude");
  const js::value* longitude = member(*point, "longitude");
  if (!latitude || !longitude || !is_number(*latitude) || !is_number(*longitude)) {
    return std::nullopt;
  }
  return js::object{{"lat", *latitude}, {"lng", *longitude}};
}

std::optional<js::object> geometry(const js::object& place) {
  auto location = lat_lng(object_member(place, "location"));
  if (!location) return std::nullopt;
  js::object out{{"location", std::move(*location)}};
  if (const js::object* viewport = object_member(place, "viewport")) {
    auto northeast = lat_lng(object_member(*viewport, "high"));
    auto southwest = lat_lng(object_member(*viewport, "low"));
    if (northeast && southwest) {
      out["viewport"] =
          js::object{{"northeast", std::move(*northeast)}, {"southwest", std::move(*southwest)}};
    }
  }
  return out;
}

void copy_string(const js::object& from, std::string_view key, js::object& to,
                 std::string_view legacy_key) {
  if (const js::string* text = string_member(from, key)) to[legacy_key] = *text;
}

js::object translate_place(const js::object& place) {
  js::object out;
  if (const js::string* status = string_member(place, "businessStatus")) {
    if (*status != "BUSINESS_STATUS_UNSPECIFIED") out["business_status"] = *status;
  }
  if (auto where = geometry(place)) out["geometry"] = std::move(*where);
  copy_string(place, "iconBackgroundColor", out, "icon_background_color");
  copy_string(place, "iconMaskBaseUri", out, "icon_mask_base_uri");
  if (const js::object* name = object_member(place, "displayName")) {
    copy_string(*name, "text", out, "name");
  }
  if (const js::object* hours = object_member(place, "currentOpeningHours")) {
    const js::value* open = member(*hours, "openNow");
    if (open && open->is_bool()) out["opening_hours"] = js::object{{"open_now", *open}};
  }
  copy_string(place, "id", out, "place_id");
  if (const js::object* code = object_member(place, "plusCode")) {
    js::object plus_code;
    copy_string(*code, "compoundCode", plus_code, "compound_code");
    copy_string(*code, "globalCode", plus_code, "global_code");
    if (!plus_code.empty()) out["plus_code"] = std::move(plus_code);
  }
  if (const js::string* level = string_member(place, "priceLevel")) {
    for (std::size_t i = 0; i < kPriceLevels.size(); ++i) {
      if (*level == kPriceLevels[i]) out["price_level"] = static_cast<std::int64_t>(i);
    }
  }
  if (const js::value* rating = member(place, "rating"); rating && is_number(*rating)) {
    out["rating"] = *rating;
  }
  if (const js::value* types = member(place, "types"); types && types->is_array()) {
    out["types"] = *types;
  }
  if (const js::value* count = member(place, "userRatingCount"); count && is_number(*count)) {
    out["user_ratings_total"] = *count;
  }
  // The legacy vicinity is the short address; the full one is the next best thing.
  if (string_member(place, "shortFormattedAddress")) {
    copy_string(place, "shortFormattedAddress", out, "vicinity");
  } else {
    copy_string(place, "formattedAddress", out, "vicinity");
  }
  return out;
}

std::optional<js::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  js::value value = js::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

}  // namespace

const std::string_view kNewApiFieldMask =
    "places.businessStatus,places.currentOpeningHours,places.displayName,"
    "places.formattedAddress,places.iconBackgroundColor,places.iconMaskBaseUri,places.id,"
    "places.location,places.plusCode,places.priceLevel,places.rating,"
    "places.shortFormattedAddress,places.types,places.userRatingCount,places.viewport";

std::optional<std::string> new_to_legacy(std::string_view body) {
  auto answer = parse_object(body);
  if (!answer) return std::nullopt;
  js::array results;
  // Google leaves `places` out altogether when nothing is near.
  if (const js::value* places = member(*answer, "places")) {
    if (!places->is_array()) return std::nullopt;
    for (const js::value& place : places->as_array()) {
      if (!place.is_object()) return std::nullopt;
      results.push_back(translate_place(place.as_object()));
    }
  }
  const bool none = results.empty();
  js::object legacy{{"html_attributions", js::array{}},
                    {"results", std::move(results)},
                    {"status", none ? "ZERO_RESULTS" : "OK"}};
  return json::write_styled(legacy);
}

std::string_view legacy_status(int http_status) {
  switch (http_status) {
    case 400:
      return "INVALID_REQUEST";
    case 403:
      return "REQUEST_DENIED";
    case 429:
      return "OVER_QUERY_LIMIT";
    default:
      return "UNKNOWN_ERROR";
  }
}

std::string new_error_to_legacy(int http_status, std::string_view body) {
  std::string message = "places source answered HTTP " + std::to_string(http_status);
  if (auto answer = parse_object(body)) {
    if (const js::object* error = object_member(*answer, "error")) {
      const js::string* text = string_member(*error, "message");
      if (text && !text->empty()) message = std::string(*text);
    }
  }
  return protocol::places_error_body(legacy_status(http_status), message);
}

std::optional<std::string> json_decimal(std::string_view decimal) {
  std::string out;
  if (!decimal.empty() && (decimal.front() == '+' || decimal.front() == '-')) {
    if (decimal.front() == '-') out += '-';
    decimal.remove_prefix(1);
  }
  const auto point = decimal.find('.');
  std::string_view whole = decimal.substr(0, point);
  std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : decimal.substr(point + 1);
  auto digits = [](std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(whole) || (point != std::string_view::npos && !digits(fraction))) {
    return std::nullopt;
  }
  // JSON forbids leading zeros; one zero stays before the point.
  const auto first = whole.find_first_not_of('0');
  out += first == std::string_view::npos ? "0" : whole.substr(first);
  if (point != std::string_view::npos) {
    out += '.';
    out += fraction;
  }
  return out;
}

}  // namespace herd::places
