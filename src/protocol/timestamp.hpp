// Time as the herd protocol writes it: POSIX seconds with up to nine fractional digits.
//
// All time arithmetic is in whole nanoseconds on integers; nothing here touches floating
// point, so every value a client may send (up to 9999999999.999999999) is exact.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd::protocol {

struct Timestamp {
  std::int64_t seconds = 0;      // 0 .. 9'999'999'999
  std::int32_t nanoseconds = 0;  // 0 .. 999'999'999

  // clang-tidy 14 takes the 0 in the compiler-made comparison for a null pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Parses a client time, `D{1,10}(.D{1,9})?`; nullopt for anything else.
std::optional<Timestamp> parse_client_time(std::string_view text);

Timestamp to_timestamp(std::chrono::system_clock::time_point point);

// `received - sent` as an AT line writes it: an explicit sign, whole seconds, and exactly
// nine fractional digits ("+0.263873386", "-12.000000001", "+0.000000000").
std::string format_time_difference(Timestamp received, Timestamp sent);

// True for text that format_time_difference could have written: `[+-]D+.D{9}`.
bool is_time_difference(std::string_view text);

}  // namespace herd::protocol
