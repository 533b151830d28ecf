#include "protocol/location.hpp"

namespace herd::protocol {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads `[+-]D{1,max_digits}(.D+)?` from the front of `text`, leaving `text` after it, and
// checks that its magnitude is at most `limit` (a whole number) as an exact decimal.
std::optional<std::string_view> take_coordinate(std::string_view& text, std::size_t max_digits,
                                                int limit) {
  if (text.empty() || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  std::size_t i = 1;
  int whole = 0;
  while (i < text.size() && is_digit(text[i])) {
    if (i > max_digits) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 1) return std::nullopt;
  bool fraction_is_zero = true;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction_start = ++i;
    while (i < text.size() && is_digit(text[i])) {
      if (text[i] != '0') fraction_is_zero = false;
      ++i;
    }
    if (i == fraction_start) return std::nullopt;
  }
  if (whole > limit || (whole == limit && !fraction_is_zero)) return std::nullopt;
  const std::string_view coordinate = text.substr(0, i);
  text.remove_prefix(i);
  return coordinate;
}

}  // namespace

std::optional<Location> parse_location(std::string_view text) {
  const auto latitude = take_coordinate(text, 2, 90);
  if (!latitude) return std::nullopt;
  const auto longitude = take_coordinate(text, 3, 180);
  if (!longitude || !text.empty()) return std::nullopt;
  return Location{std::string(*latitude), std::string(*longitude)};
}

std::string unsigned_plus(std::string_view coordinate) {
  if (!coordinate.empty() && coordinate[0] == '+') coordinate.remove_prefix(1);
  return std::string(coordinate);
}

}  // namespace herd::protocol
