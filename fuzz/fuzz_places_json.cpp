// Fuzz target: the places JSON a WHATSAT reply carries, made from whatever bytes a places
// source answered. trim_results must refuse exactly the bodies that are not a JSON object,
// and otherwise keep the document as it was but for the `results` entries past the bound;
// collapse_newlines must leave no blank line and no trailing newline, so that a client can
// find the end of a reply at its first "\n\n".
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "fuzz_support.hpp"
#include "protocol/places_json.hpp"
#include "protocol/reply.hpp"

namespace {

using herd::fuzz::require;
using namespace herd::protocol;

std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error);
  if (error) return std::nullopt;
  return value;
}

// Whether two parsed values hold the same. Boost.JSON 1.81 does not read every number to
// the nearest double: the same digits may come out an ulp or so apart depending on what
// follows them (`99.99999999999993080,` and `99.99999999999993080  ]`), so doubles are
// compared to within a relative 1e-13, and NaN (it reads `0e309` so) equals NaN.
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    return x == y || std::fabs(x - y) <= 1e-13 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (const auto* array = a.if_array()) {
    const auto& other = b.get_array();
    if (array->size() != other.size()) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (!same((*array)[i], other[i])) return false;
    }
    return true;
  }
  if (const auto* object = a.if_object()) {
    const auto& other = b.get_object();
    if (object->size() != other.size()) return false;
    for (const auto& [key, value] : *object) {
      const auto* match = other.if_contains(key);
      if (match == nullptr || !same(value, *match)) return false;
    }
    return true;
  }
  return a == b;
}

// True when `part` is `whole` with some bytes left out and none added or moved: the
// trimmed body is the source's own bytes.
bool is_subsequence(std::string_view part, std::string_view whole) {
  std::size_t at = 0;
  for (const char c : part) {
    at = whole.find(c, at);
    if (at == std::string_view::npos) return false;
    ++at;
  }
  return true;
}

void check_trim(std::string_view body, int bound) {
  const std::optional<std::string> trimmed = trim_results(body, bound);
  const std::optional<boost::json::value> original = parse_json(body);
  const bool is_object = original && original->is_object();
  require(trimmed.has_value() == is_object, "trimmed exactly when the body is a JSON object");
  if (!trimmed) return;

  boost::json::value expected = *original;
  bool cut = false;
  if (auto* results = expected.as_object().if_contains("results")) {
    if (auto* array = results->if_array(); array && array->size() > std::size_t(bound)) {
      array->resize(static_cast<std::size_t>(bound));
      cut = true;
    }
  }
  const std::optional<boost::json::value> parsed = parse_json(*trimmed);
  require(parsed.has_value(), "a trimmed body is still JSON");
  require(same(*parsed, expected),
          "the first `bound` results are kept, every other value unchanged");
  // Duplicate keys: the parser keeps one `results`, the trimmer cuts each. With one key
  // spelt one way, a body with nothing to cut must come back byte for byte.
  const std::size_t first_key = body.find("results");
  const bool one_key = body.find("\\u") == std::string_view::npos &&
                       (first_key == std::string_view::npos ||
                        body.find("results", first_key + 1) == std::string_view::npos);
  require(cut || !one_key || *trimmed == body, "a body with no surplus comes back byte for byte");
  require(is_subsequence(*trimmed, body), "trimming only removes bytes");
}

void check_collapse(std::string_view text) {
  const std::string collapsed = collapse_newlines(text);
  require(collapsed.find("\n\n") == std::string::npos, "no run of newlines is left");
  require(collapsed.empty() || collapsed.back() != '\n', "no trailing newline is left");
  std::string kept(text);
  std::erase(kept, '\n');
  std::string collapsed_kept = collapsed;
  std::erase(collapsed_kept, '\n');
  require(kept == collapsed_kept, "only newlines are removed");
  // One newline is left of each run that something other than a newline follows.
  std::size_t runs = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i - 1] == '\n' && text[i] != '\n') ++runs;
  }
  require(std::size_t(std::count(collapsed.begin(), collapsed.end(), '\n')) == runs,
          "each inner run of newlines becomes one");

  // A body that starts with a newline would put a blank line right after the AT line; JSON
  // allows it, Google never sends it, and the contract's rules then give that reply.
  if (collapsed.empty() || collapsed.front() == '\n') return;
  const Record record{"kiwi", {"+1", "+2"}, {1, 0}, "AT Clark +0.000000000 kiwi +1+2 1"};
  const std::string reply = whatsat_reply(record, collapsed);
  require(reply.find("\n\n") == reply.size() - 2, "a WHATSAT reply ends at its first blank line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  herd::fuzz::Random random(herd::fuzz::hash_bytes(body));
  // Bound 1 cuts the most often; the other is any bound a client may ask for.
  check_trim(body, 1);
  const int bound = 1 + static_cast<int>(random.below(20));
  check_trim(body, bound);
  if (const auto trimmed = trim_results(body, bound)) check_collapse(*trimmed);
  check_collapse(body);
  return 0;
}
