#include "places/google_legacy.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <exception>
#include <utility>

#include "places/source_failure.hpp"

namespace herd::places {
namespace {

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                      (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

bool is_json_object(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  return !ec && value.is_object();
}

}  // namespace

boost::asio::awaitable<std::string> GoogleLegacySource::nearby(PlacesQuery query) {
  std::string failure;
  std::string shown_url;
  try {
    std::string url = endpoint_.url;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += "location=" + percent_encode(query.latitude) + "," + percent_encode(query.longitude);
    url += "&radius=" + percent_encode(query.radius_metres);
    url += "&key=" + percent_encode(endpoint_.api_key);
    shown_url = log::redact_url(url);
    endpoint_.log.event("places GET " + shown_url);

    HttpRequest request;
    request.url = std::move(url);
    HttpResponse response = co_await endpoint_.http->request(std::move(request));
    if (response.status != 200) {
      failure = "places source answered HTTP " + std::to_string(response.status);
    } else if (!is_json_object(response.body)) {
      failure = "places source answered with a body that is not JSON";
    } else {
      co_return std::move(response.body);
    }
  } catch (const std::exception& e) {
    // HttpError included: its message says what failed (and that it timed out, if it did).
    failure = e.what();
  } catch (...) {
    failure = "places request failed";
  }

  co_return unknown_error(endpoint_.log, "places GET " + (shown_url.empty() ? "<url>" : shown_url),
                          std::move(failure), endpoint_.api_key);
}

}  // namespace herd::places
