// Builds the offline places file (place_format.hpp) from GeoNames' tab-separated text, as in
// cities500.txt: one place a line, 19 fields (geonameid, name, asciiname, alternatenames,
// latitude, longitude, feature class, feature code, country code, cc2, admin1 code, ...,
// population, ...).
//
// What a record keeps: the name (cut to 255 bytes at a character boundary), the coordinates
// to 1e-7 degree, the population, the id, PPLX as a neighbourhood and any other populated
// place as a locality, and a vicinity. GeoNames' text has codes only, not admin1 names, so
// the vicinity is "<admin1 code>, <country code>" where the admin1 code is a readable
// abbreviation (has a letter: "CA, US", "ENG, GB") and the country code alone where it is a
// bare number ("FR"). Lines of other feature classes are skipped.
#pragma once

#include <string>
#include <string_view>

namespace herd::places::offline {

// The bytes of a places file holding every place of `text`. Throws std::runtime_error naming
// the line for a line that is not a GeoNames place.
std::string build_place_file(std::string_view text);

}  // namespace herd::places::offline
