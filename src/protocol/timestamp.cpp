#include "protocol/timestamp.hpp"

namespace herd::protocol {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<Timestamp> parse_client_time(std::string_view text) {
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  if (whole.empty() || whole.size() > 10 || !all_digits(whole)) return std::nullopt;
  if (point != std::string_view::npos &&
      (fraction.empty() || fraction.size() > 9 || !all_digits(fraction))) {
    return std::nullopt;
  }
  Timestamp time;
  for (char c : whole) time.seconds = time.seconds * 10 + (c - '0');
  for (std::size_t i = 0; i < 9; ++i) {
    const int digit = i < fraction.size() ? fraction[i] - '0' : 0;
    time.nanoseconds = time.nanoseconds * 10 + digit;
  }
  return time;
}

Timestamp to_timestamp(std::chrono::system_clock::time_point point) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(point.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  return Timestamp{seconds.count(), static_cast<std::int32_t>((since_epoch - seconds).count())};
}

std::string format_time_difference(Timestamp received, Timestamp sent) {
  const bool negative = received < sent;
  const Timestamp& later = negative ? sent : received;
  const Timestamp& earlier = negative ? received : sent;
  // Unsigned wrap-around gives the exact magnitude for any two int64 second counts.
  std::uint64_t seconds =
      static_cast<std::uint64_t>(later.seconds) - static_cast<std::uint64_t>(earlier.seconds);
  std::int64_t nanoseconds = std::int64_t{later.nanoseconds} - earlier.nanoseconds;
  if (nanoseconds < 0) {
    seconds -= 1;
    nanoseconds += kNanosPerSecond;
  }
  std::string fraction = std::to_string(nanoseconds);
  fraction.insert(0, 9 - fraction.size(), '0');
  return (negative ? "-" : "+") + std::to_string(seconds) + "." + fraction;
}

bool is_time_difference(std::string_view text) {
  if (text.size() < 12 || (text[0] != '+' && text[0] != '-')) return false;
  const std::size_t point = text.size() - 10;
  if (text[point] != '.') return false;
  return point > 1 && all_digits(text.substr(1, point - 1)) && all_digits(text.substr(point + 1));
}

}  // namespace herd::protocol
