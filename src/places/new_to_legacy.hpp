// Google's Places API (New) answers, translated into the legacy Nearby Search body.
//
// Clients were promised the legacy schema and layout; these pure functions keep that promise
// for the google-new source. A translated place carries only what the new answer gave: a
// field the answer lacks is left out, as Google's legacy API leaves it out. The text is
// written in Google's legacy layout (json/styled_writer.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herd::places {

// The fields new_to_legacy() reads, as an X-Goog-FieldMask value. Google bills a call by
// the costliest field asked for, so nothing is here that is not translated.
extern const std::string_view kNewApiFieldMask;

// `{"places":[...]}` (HTTP 200) to `{"html_attributions":[],"results":[...],"status":...}`:
// OK with results, ZERO_RESULTS without. nullopt when the text is not a JSON object of that
// shape.
std::optional<std::string> new_to_legacy(std::string_view body);

// The legacy status an HTTP error of the new API stands for: 400 INVALID_REQUEST,
// 403 REQUEST_DENIED, 429 OVER_QUERY_LIMIT, anything else UNKNOWN_ERROR.
std::string_view legacy_status(int http_status);

// A legacy error body for an HTTP error answer of the new API. Its error_message is Google's
// `error.message` when the body has one, else "places source answered HTTP <status>".
std::string new_error_to_legacy(int http_status, std::string_view body);

// A decimal as a JSON number: "+05.50" -> "5.50", "-000" -> "-0", "7" -> "7". nullopt for
// anything but [+-]D+(.D+)?.
std::optional<std::string> json_decimal(std::string_view decimal);

}  // namespace herd::places
