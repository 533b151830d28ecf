#include "protocol/radius.hpp"

namespace herd::protocol {

namespace {

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

std::string_view strip_leading_zeros(std::string_view digits) {
  while (!digits.empty() && digits.front() == '0') digits.remove_prefix(1);
  return digits;
}

}  // namespace

std::optional<std::string> parse_radius_metres(std::string_view kilometres) {
  const std::size_t point = kilometres.find('.');
  const std::string_view whole = kilometres.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : kilometres.substr(point + 1);
  if (!all_digits(whole)) return std::nullopt;
  if (point != std::string_view::npos && !all_digits(fraction)) return std::nullopt;

  // Compared as exact decimals; any whole part of three or more significant digits is > 50.
  const std::string_view significant = strip_leading_zeros(whole);
  if (significant.size() > 2) return std::nullopt;
  int value = 0;
  for (char c : significant) value = value * 10 + (c - '0');
  const bool fraction_is_zero = fraction.find_first_not_of('0') == std::string_view::npos;
  if (value > 50 || (value == 50 && !fraction_is_zero)) return std::nullopt;
  if (value == 0 && fraction_is_zero) return std::nullopt;

  // Metres: the point moves three digits right.
  std::string shifted(significant);
  for (std::size_t i = 0; i < 3; ++i) shifted += i < fraction.size() ? fraction[i] : '0';
  std::string metres(strip_leading_zeros(shifted));
  if (metres.empty()) metres.push_back('0');
  std::string_view rest = fraction.size() > 3 ? fraction.substr(3) : std::string_view{};
  while (!rest.empty() && rest.back() == '0') rest.remove_suffix(1);
  if (!rest.empty()) {
    metres += '.';
    metres += rest;
  }
  return metres;
}

std::optional<int> parse_bound(std::string_view text) {
  if (!all_digits(text)) return std::nullopt;
  const std::string_view significant = strip_leading_zeros(text);
  if (significant.size() > 2) return std::nullopt;
  int value = 0;
  for (char c : significant) value = value * 10 + (c - '0');
  if (value < 1 || value > 20) return std::nullopt;
  return value;
}

}  // namespace herd::protocol
