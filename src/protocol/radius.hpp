// The WHATSAT radius and bound fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herd::protocol {

// Parses a radius in kilometres, `D+(.D+)?` with 0 < r <= 50, and returns it in metres as
// an exact decimal without superfluous zeros ("10" -> "10000", "0.0001" -> "0.1",
// "2.50" -> "2500", "007" -> "7000").
std::optional<std::string> parse_radius_metres(std::string_view kilometres);

// Parses a result bound, `D+` from 1 to 20 (leading zeros allowed).
std::optional<int> parse_bound(std::string_view text);

}  // namespace herd::protocol
