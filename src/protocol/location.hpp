// Client locations in the ISO 6709 form that IAMAT carries, e.g. `+34.068930-118.445127`.
//
// Range checks compare the digits as exact decimals, so `+90.000000000000000001+0` is out
// of range however many digits follow.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herd::protocol {

struct Location {
  std::string latitude;   // as written, sign included: "+34.068930"
  std::string longitude;  // as written, sign included: "-118.445127"
};

// Parses `[+-]D{1,2}(.D+)?[+-]D{1,3}(.D+)?` with |latitude| <= 90, |longitude| <= 180.
std::optional<Location> parse_location(std::string_view text);

// A coordinate as a places source wants it in a URL or JSON: no leading '+', the client's
// digits otherwise unchanged ("+34.068930" -> "34.068930", "-118.4" -> "-118.4").
std::string unsigned_plus(std::string_view coordinate);

}  // namespace herd::protocol
